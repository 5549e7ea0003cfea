"""A stand-in or network that stops answering gives a ServiceUnreachable with a next step."""

import socket

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ParamValidationError

from helpers import errors, session
from helpers.errors import InputError, KitError, ServiceUnreachable

ONE_TRY = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2)


@pytest.fixture
def closed_port():
    """A local port nothing listens on (the stand-in was stopped)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def creds(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def test_explained_turns_a_lost_endpoint_into_a_kit_error(closed_port, creds, reliability):
    rekognition = boto3.client(
        "rekognition", region_name="us-east-1", endpoint_url=closed_port, config=ONE_TRY
    )
    with (
        pytest.raises(ServiceUnreachable) as err,
        errors.explained("waiting for moderation job `j1`"),
    ):
        rekognition.get_content_moderation(JobId="j1")
    assert "waiting for moderation job `j1`" in err.value.what
    assert "EndpointConnectionError" in err.value.what
    assert "run the cell again" in err.value.fix
    reliability["connection losses named"] += 1


def test_offline_advice_names_the_stand_in(closed_port, creds, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_port)
    s3 = boto3.client("s3", region_name="us-east-1", config=ONE_TRY)

    @errors.kit_step
    def step():
        return s3.list_buckets()

    with pytest.raises(ServiceUnreachable) as err:
        step()
    assert "stand-in" in err.value.what and "make serve" in err.value.fix


def test_connect_with_the_stand_in_gone(closed_port, creds, monkeypatch, reliability):
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_port)
    monkeypatch.setattr(session, "RETRY_CONFIG", ONE_TRY)
    with pytest.raises(ServiceUnreachable, match="GetCallerIdentity"):
        session.connect(region="us-east-1", run_id="net01")
    reliability["connection losses named"] += 1


def test_param_validation_is_an_input_error(creds):
    rekognition = boto3.client("rekognition", region_name="us-east-1")
    with pytest.raises(InputError) as err, errors.explained():
        rekognition.start_content_moderation(
            Video={"S3Object": {"Bucket": "b", "Name": "k"}}, MinConfidence="50"
        )
    assert isinstance(err.value.__cause__, ParamValidationError)
    assert "without quotes" in err.value.fix


def test_explain_keeps_kit_errors():
    mine = KitError("x", "y")
    assert errors.explain(mine) is mine


@pytest.mark.parametrize(
    "make, said",
    [
        (lambda t: list((t / "no-videos-here").iterdir()), "does not exist"),
        (lambda t: (t / "f.txt").write_text("x") and list((t / "f.txt").iterdir()), "is a file"),
        (lambda t: t.joinpath("d").mkdir() or (t / "d").read_text(), "is a folder"),
    ],
    ids=["missing-folder", "file-for-folder", "folder-for-file"],
)
def test_a_steps_missing_path_is_an_input_error(tmp_path, make, said, reliability):
    @errors.kit_step
    def step():
        return make(tmp_path)

    with pytest.raises(InputError, match=said) as err:
        step()
    assert str(tmp_path) in err.value.what and err.value.fix
    reliability["bad inputs rejected"] += 1


def test_a_lost_endpoint_while_waiting_is_named(closed_port, creds, reliability):
    """Every wait (waiting.wait_until: jobs, flow definitions, loops, clean up) names the loss."""
    from helpers.waiting import wait_until

    a2i = boto3.client(
        "sagemaker-a2i-runtime", region_name="us-east-1", endpoint_url=closed_port, config=ONE_TRY
    )
    with pytest.raises(ServiceUnreachable) as err:
        wait_until(
            lambda: a2i.describe_human_loop(HumanLoopName="vmk-loop-x"),
            lambda d: d["HumanLoopStatus"] == "Completed",
            what="Human loop vmk-loop-x being completed",
            timeout=5,
            advice="-",
            sleep=lambda s: None,
        )
    assert "during the wait for human loop vmk-loop-x being completed" in err.value.what
    assert "EndpointConnectionError" in err.value.what
    reliability["connection losses named"] += 1


def test_a_lost_queue_while_waiting_for_a_notice_is_named(closed_port, creds, reliability):
    from helpers import notify

    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=closed_port, config=ONE_TRY)
    notices = notify.JobNotices("arn:t", f"{closed_port}/123456789012/q", "arn:q", "arn:s", "r")
    with pytest.raises(ServiceUnreachable, match="completion notice"):
        notify.Inbox(sqs, notices).wait("job-1", timeout=5)
    reliability["connection losses named"] += 1
