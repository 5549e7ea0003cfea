"""The Studio-like offline identity, the mocked() environment, and resets."""

from __future__ import annotations

import json
import os
import urllib.parse

import boto3
import pytest

from helpers.offline import (
    OFFLINE_ACCESS_KEY_ID,
    OFFLINE_ROLE_NAME,
    OfflineSettings,
    current_settings,
    is_offline_identity,
    mocked,
    offline_assumed_role_arn,
    offline_role_arn,
)


def test_sts_answers_the_assumed_role_and_iam_knows_the_role(aws):
    identity = boto3.client("sts").get_caller_identity()
    assert identity["Arn"] == offline_assumed_role_arn(aws.account_id)
    assert identity["Arn"] == (
        f"arn:aws:sts::{aws.account_id}:assumed-role/VideoModerationKitNotebookRole/SageMaker"
    )
    assert identity["Account"] == aws.account_id
    assert identity["UserId"].startswith("AROA") and identity["UserId"].endswith(":SageMaker")
    role = boto3.client("iam").get_role(RoleName=OFFLINE_ROLE_NAME)["Role"]
    assert role["Arn"] == offline_role_arn(aws.account_id)
    assert role["Path"] == "/service-role/"
    assert identity["UserId"].split(":")[0] == role["RoleId"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(urllib.parse.unquote(trust))
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}


def test_iam_knows_the_role_before_sts_is_asked(aws):
    assert boto3.client("iam").get_role(RoleName=OFFLINE_ROLE_NAME)["Role"]["RoleName"] == (
        OFFLINE_ROLE_NAME
    )
    roles = boto3.client("iam").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == [OFFLINE_ROLE_NAME]


def test_other_keys_keep_motos_identity(aws):
    sts = boto3.client("sts", aws_access_key_id="AKIAOTHERKEY00000000", aws_secret_access_key="x")
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:sts::{aws.account_id}:user/moto"
    assert boto3.client("iam").list_roles()["Roles"] == []


def test_mocked_sets_and_restores_the_environment(monkeypatch, offline_settings):
    monkeypatch.setenv("AWS_PROFILE", "someone-elses-profile")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY000000000")
    before = dict(os.environ)
    outer = current_settings()
    with mocked(offline_settings) as aws:
        assert os.environ["AWS_ACCESS_KEY_ID"] == OFFLINE_ACCESS_KEY_ID
        assert is_offline_identity(os.environ["AWS_ACCESS_KEY_ID"])
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
        assert "AWS_PROFILE" not in os.environ
        assert not any(k.startswith("AWS_ENDPOINT_URL") for k in os.environ)
        assert current_settings() is aws.settings is offline_settings
        aws.advance(100)
    assert dict(os.environ) == before
    assert current_settings() is outer


def test_mocked_uses_the_settings_region():
    with mocked(OfflineSettings(region="eu-central-1")) as aws:
        assert boto3.client("sagemaker").meta.region_name == "eu-central-1"
        assert aws.client("s3").meta.region_name == "eu-central-1"


def test_reset_wipes_everything(aws, video, review_setup, input_content):
    rekognition = aws.client("rekognition")
    job_id = rekognition.start_content_moderation(Video=video)["JobId"]
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": input_content(1)},
    )
    aws.reset()
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.get_content_moderation(JobId=job_id)
    with pytest.raises(a2i.exceptions.ResourceNotFoundException):
        a2i.describe_human_loop(HumanLoopName="vmk-loop")
    sm = aws.client("sagemaker")
    assert sm.list_flow_definitions()["FlowDefinitionSummaries"] == []
    assert sm.list_human_task_uis()["HumanTaskUiSummaries"] == []
    assert len(sm.list_workteams()["Workteams"]) == 1  # present again in the fresh world
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert boto3.client("iam").list_roles()["Roles"] == []


def test_leaving_mocked_drops_the_state(offline_settings):
    with mocked(offline_settings) as aws:
        aws.client("sagemaker").create_human_task_ui(
            HumanTaskUiName="vmk-ui", UiTemplate={"Content": "x"}
        )
    with mocked(offline_settings) as aws:
        assert aws.client("sagemaker").list_human_task_uis()["HumanTaskUiSummaries"] == []


def test_install_is_idempotent():
    from moto.rekognition.responses import RekognitionResponse

    from helpers.offline import install
    from helpers.offline.identity import STSBackend

    install()
    method, identity = RekognitionResponse.start_content_moderation, STSBackend.get_caller_identity
    install()
    assert RekognitionResponse.start_content_moderation is method
    assert STSBackend.get_caller_identity is identity
    from moto import backend_index

    names = [name for name, _ in backend_index.backend_url_patterns]
    assert names.count("sagemakera2iruntime") == 1
