"""The kit with the SageMaker Python SDK 2.x installed, as in SageMaker Studio images.

`make test` installs the SDK's 2.x line (requirements-test.txt). The kit does not depend on it:
these tests check that the kit behaves the same with it present, and that the SDK's own S3
helpers and `sagemaker_core`'s A2I resources work against the stand-in, pointed at it by
environment variables alone. The SDK's role and bucket lookups cannot be pointed there: both
lines build their STS client with a fixed `https://sts.<region>.amazonaws.com` endpoint
(README, "The SageMaker Python SDK").
"""

from __future__ import annotations

import boto3
import pytest

from helpers import session as kit_session
from helpers.offline import OFFLINE_ACCESS_KEY_ID, offline_role_arn, start_server

sagemaker = pytest.importorskip(
    "sagemaker", reason="the SageMaker Python SDK 2.x comes with requirements-test.txt"
)

BUCKET = "vmk-sdk-tests"


@pytest.fixture
def server(offline_settings, use_stand_in):
    handle = start_server(offline_settings, port=0)
    use_stand_in(handle)
    try:
        yield handle
    finally:
        handle.stop()


def test_the_sdk_is_the_2x_line():
    assert sagemaker.__version__.startswith("2.")
    assert hasattr(sagemaker, "Session")  # gone in 3.x: why the kit does not depend on it


def test_kit_role_and_bucket_lookups_are_the_same_with_the_sdk_present(server):
    kit = kit_session.connect(region="us-east-1")
    account = boto3.client("sts").get_caller_identity()["Account"]
    assert kit.role_arn == offline_role_arn(account)
    assert kit.bucket == f"sagemaker-us-east-1-{account}"
    # the kit found the role through STS and IAM at the stand-in, not through the SDK
    assert boto3.client("sts").get_caller_identity()["Arn"].endswith("/SageMaker")
    assert server.env["AWS_ACCESS_KEY_ID"] == OFFLINE_ACCESS_KEY_ID


def test_sdk_sts_client_has_a_fixed_endpoint(server, monkeypatch):
    """Why `Session().default_bucket()` and `get_execution_role()` cannot reach the stand-in:
    the SDK asks STS at AWS's regional endpoint whatever AWS_ENDPOINT_URL says."""
    sdk = sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"))
    asked = []
    real_client = sdk.boto_session.client

    def client(name, *args, **kwargs):
        if name == "sts":
            asked.append(kwargs.get("endpoint_url"))
            raise ConnectionAbortedError("not sent: this test only looks at the endpoint")
        return real_client(name, *args, **kwargs)

    monkeypatch.setattr(sdk.boto_session, "client", client)
    with pytest.raises(ConnectionAbortedError):
        sdk.account_id()
    assert asked == ["https://sts.us-east-1.amazonaws.com"] != [server.endpoint]


def test_sdk_s3_helpers_work_against_the_stand_in(server, tmp_path):
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    sdk = sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"))
    source = tmp_path / "clip.txt"
    source.write_text("frames")
    uri = sdk.upload_data(str(source), bucket=BUCKET, key_prefix="sdk")
    assert uri == f"s3://{BUCKET}/sdk/clip.txt"
    assert sdk.read_s3_file(BUCKET, "sdk/clip.txt") == "frames"
    assert sdk.list_s3_files(BUCKET, "sdk/") == ["sdk/clip.txt"]
    assert sdk.sagemaker_client.list_workteams()["Workteams"]


def test_sagemaker_core_a2i_resources_against_the_stand_in(server):
    resources = pytest.importorskip("sagemaker_core.resources", reason="a sagemaker 2.x dependency")
    shapes = pytest.importorskip("sagemaker_core.shapes", reason="a sagemaker 2.x dependency")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    role = boto3.client("iam").get_role(RoleName="VideoModerationKitNotebookRole")["Role"]["Arn"]
    team = boto3.client("sagemaker").list_workteams()["Workteams"][0]["WorkteamArn"]
    ui = resources.HumanTaskUi.create(
        human_task_ui_name="vmk-sdk-ui",
        ui_template=shapes.UiTemplate(content="<p>{{ task.input.x }}</p>"),
    )
    assert ui.human_task_ui_arn.endswith(":human-task-ui/vmk-sdk-ui")
    assert "vmk-sdk-ui" in [u.human_task_ui_name for u in resources.HumanTaskUi.get_all()]
    flow = resources.FlowDefinition.create(
        flow_definition_name="vmk-sdk-flow",
        human_loop_config=shapes.HumanLoopConfig(
            workteam_arn=team,
            human_task_ui_arn=ui.human_task_ui_arn,
            task_title="Review",
            task_description="Review the items",
            task_count=1,
        ),
        output_config=shapes.FlowDefinitionOutputConfig(s3_output_path=f"s3://{BUCKET}/out/"),
        role_arn=role,
    )
    flow.wait_for_status("Active", poll=1, timeout=30)
    assert flow.flow_definition_status == "Active"
    assert "vmk-sdk-flow" in [f.flow_definition_name for f in resources.FlowDefinition.get_all()]
    flow.delete()
    ui.delete()
