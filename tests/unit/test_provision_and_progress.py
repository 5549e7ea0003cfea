"""Provisioning names and checks, and the progress line a person reads while the kit waits."""

import pytest

from helpers import progress, provision
from helpers.errors import InputError

REQUEST = {
    "HumanLoopConfig": {
        "WorkteamArn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/t",
        "HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/u",
        "TaskTitle": "Review",
        "TaskDescription": "Review it",
        "TaskCount": 1,
    },
    "OutputConfig": {"S3OutputPath": "s3://b/p"},
    "RoleArn": "arn:aws:iam::123456789012:role/r",
    "Tags": [{"Key": "video-moderation-kit", "Value": "run1"}],
}


def test_a_name_follows_the_request_not_its_name_or_tags():
    name = provision.name_for("flow", "run1", REQUEST)
    assert name.startswith("vmk-flow-run1-") and len(name) <= 63
    named = {**REQUEST, "FlowDefinitionName": name, "Tags": []}
    assert provision.name_for("flow", "run1", named) == name
    edited = {**REQUEST, "HumanLoopConfig": {**REQUEST["HumanLoopConfig"], "TaskCount": 2}}
    assert provision.name_for("flow", "run1", edited) != name


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"TaskCount": 4}, "TaskCount"),
        ({"TaskCount": "1"}, "TaskCount"),
        ({"TaskCount": 1.5}, "whole number"),
        ({"TaskTimeLimitInSeconds": 10}, "from 30 to 28800"),
        ({"TaskTimeLimitInSeconds": "1800"}, "without quotes"),
        ({"TaskAvailabilityLifetimeInSeconds": 0}, "TaskAvailabilityLifetimeInSeconds"),
        ({"TaskTitle": ""}, "TaskTitle"),
    ],
)
def test_a_flow_request_aws_would_refuse_is_refused_first(change, words):
    bad = {**REQUEST, "HumanLoopConfig": {**REQUEST["HumanLoopConfig"], **change}}
    with pytest.raises(InputError, match=words):
        provision.check_flow_request(bad)
    with pytest.raises(InputError, match="s3://"):
        provision.check_flow_request({**REQUEST, "OutputConfig": {"S3OutputPath": "b/p"}})


def test_ensure_knows_the_calls_it_makes_safe():
    with pytest.raises(InputError, match="create_flow_definition"):
        provision.ensure(print, Name="x")


def test_the_progress_line_shows_phase_and_time_waited():
    line = progress.status_line("Human loop `vmk-loop-x`", "InProgress", 65.4, 1)
    assert line == "Human loop vmk-loop-x: InProgress, 1 min 05 s waited (1 check)"
    assert "(3 checks)" in progress.status_line("Job", "IN_PROGRESS", 3, 3)
    assert progress.elapsed_text(7200) == "2 h 00 min"
    waiting = progress.Progress("Job", 600)._bundle("IN_PROGRESS", 30)
    assert "<progress" in waiting["text/html"] and "value=" not in waiting["text/html"]
    done = progress.Progress("Job", 600)._bundle("SUCCEEDED", 30)
    assert "<progress" not in done["text/html"]


class _Team:
    """A SageMaker client stand-in whose only work team has the given SubDomain."""

    def __init__(self, sub):
        self.sub = sub

    def describe_workteam(self, WorkteamName):
        return {"Workteam": {"WorkteamName": WorkteamName, "SubDomain": self.sub}}


@pytest.mark.parametrize(
    ("sub", "url"),
    [
        # AWS: a host name, opened over https://
        (
            "abc123.labeling.us-east-1.sagemaker.aws",
            "https://abc123.labeling.us-east-1.sagemaker.aws",
        ),
        ("httpbin.example", "https://httpbin.example"),  # starts with "http", still a host name
        ("localhost.example.com", "https://localhost.example.com"),
        ("127.0.0.1.nip.io", "https://127.0.0.1.nip.io"),
        # a portal on this machine (the offline stand-in's): plain HTTP
        ("worker-portal.localhost:4566", "http://worker-portal.localhost:4566"),
        ("Worker-Portal.LOCALHOST:4566", "http://Worker-Portal.LOCALHOST:4566"),
        ("localhost", "http://localhost"),
        ("127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("[::1]:8080", "http://[::1]:8080"),
        # already a URL: as it is
        ("http://127.0.0.1:4566/_portal/", "http://127.0.0.1:4566/_portal/"),
    ],
)
def test_the_worker_portal_url_uses_https_except_for_a_loopback_host(sub, url):
    assert provision.worker_portal_url(_Team(sub), {"WorkteamName": "t"}) == url
