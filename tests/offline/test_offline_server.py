"""The stand-in over HTTP: start_server(), the control endpoints, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from conftest import BUCKET, KEY
from helpers.offline import OFFLINE_ACCESS_KEY_ID, OfflineSettings, current_settings, start_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(offline_settings, tmp_path, monkeypatch, use_stand_in):
    offline_settings.answer_after_describes = 1
    handle = start_server(offline_settings, port=0, env_file=tmp_path / "offline.env")
    use_stand_in(handle)
    try:
        yield handle
    finally:
        handle.stop()


def http(server, method, path, payload=None):
    """One request with the server's control secret (as the kit's own clients send it)."""
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {"X-Kit-Secret": server.secret}
    request = urllib.request.Request(
        server.endpoint + path, data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_whole_lab_over_http(server, fixture_video, input_content, tmp_path):
    assert server.endpoint.startswith("http://127.0.0.1:") and server.port > 0
    env_file = (tmp_path / "offline.env").read_text()
    assert f"export AWS_ENDPOINT_URL={server.endpoint}" in env_file
    assert f"export AWS_ACCESS_KEY_ID={OFFLINE_ACCESS_KEY_ID}" in env_file
    assert "unset AWS_PROFILE" in env_file

    identity = boto3.client("sts").get_caller_identity()
    assert ":assumed-role/VideoModerationKitNotebookRole/SageMaker" in identity["Arn"]
    role = boto3.client("iam").get_role(RoleName="VideoModerationKitNotebookRole")["Role"]["Arn"]

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=fixture_video)
    rekognition = boto3.client("rekognition")
    job_id = rekognition.start_content_moderation(
        Video={"S3Object": {"Bucket": BUCKET, "Name": KEY}}
    )["JobId"]
    pages, token = [], None
    while True:
        page = rekognition.get_content_moderation(
            JobId=job_id, MaxResults=7, **({"NextToken": token} if token else {})
        )
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            break
    assert [len(p["ModerationLabels"]) for p in pages] == [7, 7, 5]
    with pytest.raises(rekognition.exceptions.InvalidPaginationTokenException):
        rekognition.get_content_moderation(JobId=job_id, NextToken="bogus")
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.get_content_moderation(JobId=job_id, SortBy="CONFIDENCE")

    sm = boto3.client("sagemaker")
    team = sm.list_workteams()["Workteams"][0]["WorkteamArn"]
    ui = sm.create_human_task_ui(HumanTaskUiName="vmk-ui", UiTemplate={"Content": "<p/>"})[
        "HumanTaskUiArn"
    ]
    flow = sm.create_flow_definition(
        FlowDefinitionName="vmk-flow",
        HumanLoopConfig={
            "WorkteamArn": team,
            "HumanTaskUiArn": ui,
            "TaskTitle": "t",
            "TaskDescription": "d",
            "TaskCount": 1,
        },
        OutputConfig={"S3OutputPath": f"s3://{BUCKET}/out"},
        RoleArn=role,
    )["FlowDefinitionArn"]
    assert (
        sm.describe_flow_definition(FlowDefinitionName="vmk-flow")["FlowDefinitionStatus"]
        == "Active"
    )

    a2i = boto3.client("sagemaker-a2i-runtime")
    with pytest.raises(a2i.exceptions.ValidationException):
        a2i.start_human_loop(
            HumanLoopName="bad_name", FlowDefinitionArn=flow, HumanLoopInput={"InputContent": "{}"}
        )
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=flow,
        HumanLoopInput={"InputContent": input_content(3)},
    )
    with pytest.raises(a2i.exceptions.ConflictException):
        a2i.start_human_loop(
            HumanLoopName="vmk-loop", FlowDefinitionArn=flow, HumanLoopInput={"InputContent": "{}"}
        )
    statuses = [
        a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopStatus"] for _ in range(2)
    ]
    assert statuses == ["InProgress", "Completed"]
    uri = a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopOutput"]["OutputS3Uri"]
    bucket, key = uri[len("s3://") :].split("/", 1)
    document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert document["humanLoopName"] == "vmk-loop"
    assert len(json.loads(document["humanAnswers"][0]["answerContent"]["review"])["items"]) == 3
    summaries = a2i.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"]
    assert [s["HumanLoopName"] for s in summaries] == ["vmk-loop"]
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_human_task_ui(HumanTaskUiName="nope")
    a2i.delete_human_loop(HumanLoopName="vmk-loop")
    with pytest.raises(a2i.exceptions.ResourceNotFoundException):
        a2i.describe_human_loop(HumanLoopName="vmk-loop")

    status, _ = http(server, "POST", "/moto-api/reset")
    assert status == 200
    assert sm.list_flow_definitions()["FlowDefinitionSummaries"] == []
    assert s3.list_buckets()["Buckets"] == []
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.get_content_moderation(JobId=job_id)


def test_control_endpoints(server):
    assert http(server, "GET", "/_kit/health")[1]["ok"] is True
    status, current = http(server, "GET", "/_kit/settings")
    assert status == 200 and current["auto_review"] == "mixed"
    status, changed = http(
        server, "POST", "/_kit/settings", {"auto_review": "reject", "job_seconds": 20}
    )
    assert status == 200 and changed["auto_review"] == "reject"
    assert current_settings().job_seconds == 20
    assert http(server, "POST", "/_kit/settings", {"nonsense": 1})[0] == 400
    assert http(server, "POST", "/_kit/settings", {"auto_review": "maybe"})[0] == 400
    assert current_settings().auto_review.value == "reject"
    assert http(server, "GET", "/_kit/nowhere")[0] == 404

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="x.mp4", Body=b"\x00\x00\x00\x18ftypmp42")
    rekognition = boto3.client("rekognition")
    job_id = rekognition.start_content_moderation(
        Video={"S3Object": {"Bucket": BUCKET, "Name": "x.mp4"}}
    )["JobId"]
    assert rekognition.get_content_moderation(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
    assert http(server, "POST", "/_kit/advance", {"seconds": 21})[0] == 200
    assert rekognition.get_content_moderation(JobId=job_id)["JobStatus"] == "SUCCEEDED"


def test_stop_restores_settings_and_removes_the_env_file(tmp_path):
    before = current_settings()
    handle = start_server(OfflineSettings(job_seconds=7), env_file=tmp_path / "env")
    assert current_settings().job_seconds == 7
    assert (tmp_path / "env").exists()
    handle.stop()
    handle.stop()
    assert current_settings() is before
    assert not (tmp_path / "env").exists()


def test_cli_serves_on_a_free_port_and_writes_the_env_file(tmp_path):
    env_file = tmp_path / "offline.env"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "helpers.offline",
            "serve",
            "--port",
            "0",
            "--job-seconds",
            "0",
            "--auto-review",
            "confirm",
            "--answer-after",
            "0",
            "--region",
            "eu-west-1",
            "--env-file",
            str(env_file),
        ],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not env_file.exists():
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the server did not write its env file"
            time.sleep(0.05)
        exported = dict(
            line[len("export ") :].split("=", 1)
            for line in env_file.read_text().splitlines()
            if line.startswith("export ")
        )
        assert exported["AWS_DEFAULT_REGION"] == "eu-west-1"
        assert exported["AWS_ACCESS_KEY_ID"] == OFFLINE_ACCESS_KEY_ID
        endpoint = exported["AWS_ENDPOINT_URL"]
        sts = boto3.client(
            "sts",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=exported["AWS_SESSION_TOKEN"],
        )
        assert "assumed-role/VideoModerationKitNotebookRole" in sts.get_caller_identity()["Arn"]
        secret = {"X-Kit-Secret": exported["VMK_OFFLINE_SECRET"]}
        request = urllib.request.Request(endpoint + "/_kit/settings", headers=secret)
        with urllib.request.urlopen(request, timeout=10) as response:
            settings = json.loads(response.read())
        assert (settings["auto_review"], settings["answer_after_describes"]) == ("confirm", 0)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "listening at http://127.0.0.1:" in out
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in out
    assert "unset AWS_PROFILE" in out
    assert not env_file.exists()


def test_cli_rejects_bad_settings():
    result = subprocess.run(
        [sys.executable, "-m", "helpers.offline", "serve", "--job-seconds", "-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "job_seconds must be >= 0" in result.stderr


def test_installed_dispatcher_override_still_matches_moto():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from helpers.offline.server import KitDispatcher

    assert KitDispatcher.infer_service_region_host is not (
        DomainDispatcherApplication.infer_service_region_host
    )
    environ = {
        "HTTP_AUTHORIZATION": (
            "AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-1/sagemaker/aws4_request, "
            "SignedHeaders=host, Signature=x"
        ),
        "PATH_INFO": "/human-loops/my-loop",
    }
    dispatcher = KitDispatcher(lambda service: None)  # type: ignore[arg-type]
    assert dispatcher.infer_service_region_host(environ, "/human-loops/my-loop") == (
        "a2i-runtime.sagemaker.eu-west-1.amazonaws.com"
    )
    environ["PATH_INFO"] = "/"
    assert dispatcher.infer_service_region_host(environ, "/") == (
        "api.sagemaker.eu-west-1.amazonaws.com"
    )


def test_dispatcher_remembers_moto_backend_per_host_within_a_bound():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from helpers.offline.server import KitDispatcher

    dispatcher = KitDispatcher(lambda service: None)  # type: ignore[arg-type]
    moto_own = DomainDispatcherApplication(lambda service: None)  # type: ignore[arg-type]
    hosts = [
        None,
        "moto_api",
        "s3",
        "s3.us-east-1.amazonaws.com",
        "rekognition.eu-west-1.amazonaws.com",
        "a2i-runtime.sagemaker.us-east-1.amazonaws.com",
        "api.sagemaker.us-east-1.amazonaws.com",
    ]
    for host in hosts * 2:
        assert dispatcher.get_backend_for_host(host) == moto_own.get_backend_for_host(host)
    for n in range(KitDispatcher.KNOWN_HOSTS * 2):  # hosts come from requests' headers
        dispatcher.get_backend_for_host(f"sts.region-{n}.amazonaws.com")
    assert len(dispatcher._backend_of_host) == KitDispatcher.KNOWN_HOSTS
    assert dispatcher.get_backend_for_host("sts.region-999.amazonaws.com") == "sts"


def test_warm_up_loads_every_service_and_creates_nothing(server):
    from helpers.offline import validation

    server.warm_up()
    server.warm_up()  # again: still nothing created
    clients = {name: boto3.client(name) for name in ("s3", "sns", "sqs", "sagemaker")}
    assert clients["s3"].list_buckets()["Buckets"] == []
    assert clients["sns"].list_topics()["Topics"] == []
    assert clients["sqs"].list_queues().get("QueueUrls", []) == []
    assert clients["sagemaker"].list_human_task_uis()["HumanTaskUiSummaries"] == []
    assert clients["sagemaker"].list_flow_definitions()["FlowDefinitionSummaries"] == []
    assert validation.service_model.cache_info().currsize >= 1  # models parsed before use
