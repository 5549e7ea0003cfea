"""Faults injected into the stand-in: the kit retries what is retryable, names the rest, and
clean up still removes everything."""

import json
import urllib.request

import lab_steps as steps
import pytest
from lab_steps import SAMPLE, until_items

from helpers import state
from helpers.errors import KitError, ModerationJobFailed, ResourceFailed
from helpers.offline import OfflineSettings, faults, mocked, start_server


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    monkeypatch.setattr("helpers.waiting.time.sleep", lambda s: None)
    with mocked(OfflineSettings.instant()):
        s = steps.start_run()
        yield s


def _until_review(session):
    rule_set, _, items = until_items(session)
    steps.start_review(session, items, rule_set)


def _left(session) -> int:
    """Resources the run left: everything clean up would still delete (answers are kept)."""
    return len(steps.leftovers(session))


SCENARIOS = {
    "job-failed": (
        {"fail_jobs": 1, "job_message": "Unsupported codec/format."},
        ModerationJobFailed,
        "Unsupported codec/format.",
    ),
    "flow-failed": (
        {"fail_flows": 1, "flow_reason": "Could not assume the role"},
        ResourceFailed,
        "Could not assume the role",
    ),
    "upload-denied": ({"deny_uploads": 1}, KitError, "may not call PutObject"),
    "throttled-beyond-retries": (
        {"throttle": {"GetContentModeration": 50}},
        KitError,
        "throttling GetContentModeration",
    ),
}


#: Faults that end one loop without verdicts: reading goes on and names the loop in its table of
#: problems, with the advice that fits (no error stops the run: the other loops are still read).
LOOP_PROBLEMS = {
    "loop-failed": ({"loops": {"outcome": "Failed"}}, "failed", "start a new loop"),
    "loop-expired": ({"loops": {"outcome": "Expired"}}, "expired", "no reviewer will come"),
    "loop-stopped": ({"loops": {"outcome": "Stopped"}}, "stopped", "start a new one"),
    "output-missing": ({"drop_outputs": 1}, "cannot be read", "may write there"),
}


@pytest.mark.parametrize("name", sorted(LOOP_PROBLEMS))
def test_loop_without_verdicts_is_named_and_clean_up_leaves_nothing(
    session, reliability, name, monkeypatch
):
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
    inject, problem, advice = LOOP_PROBLEMS[name]
    faults.inject(**inject)
    _until_review(session)
    steps.wait_for_review(session)
    found = steps.read_outputs(session)
    assert found.outputs == []
    assert len(found.problems) == 1
    assert problem in found.problems.loc[0, "problem"]
    assert advice in found.problems.loc[0, "advice"]
    reliability["faults injected"] += sum(faults.fired().values())
    reliability["errors surfaced"] += 1
    steps.clean_up(session)
    left = _left(session)
    reliability["resources left"] += left
    assert left == 0


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fault_is_named_and_clean_up_leaves_nothing(session, reliability, name, monkeypatch):
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
    inject, error, words = SCENARIOS[name]
    faults.inject(**inject)
    with pytest.raises(error, match=words) as caught:
        _until_review(session)
        steps.wait_for_review(session)
        steps.verdicts(steps.read_outputs(session))
    assert caught.value.fix, "every fault's error says what to do next"
    reliability["faults injected"] += sum(faults.fired().values())
    reliability["errors surfaced"] += 1
    steps.clean_up(session)
    left = _left(session)
    reliability["resources left"] += left
    assert left == 0


def test_throttling_bursts_are_absorbed_by_retries(session, reliability, monkeypatch):
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
    faults.inject(
        throttle={
            "StartContentModeration": 2,
            "GetContentModeration": 3,
            "CreateFlowDefinition": 2,
            "StartHumanLoop": 2,
            "DescribeHumanLoop": 2,
        }
    )
    _until_review(session)
    steps.wait_for_review(session)
    assert steps.verdicts(steps.read_outputs(session))["verdict"].notna().all()
    assert faults.fired()["throttle"] == 11
    reliability["faults injected"] += 11
    steps.clean_up(session)
    assert _left(session) == 0


def test_faults_over_http_reach_other_processes(tmp_path):
    with start_server(OfflineSettings.instant()) as server:
        url = f"{server.endpoint}/_kit/faults"
        secret = {"X-Kit-Secret": server.env["VMK_OFFLINE_SECRET"]}
        body = json.dumps({"fail_jobs": 2, "throttle": {"*": 1}}).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers=secret)
        answer = json.loads(urllib.request.urlopen(request).read())
        assert answer["active"]["fail_jobs"] == 2
        assert answer["active"]["throttle"] == {"*": 1}
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE", headers=secret))
        assert server.control("GET", "faults")["active"]["fail_jobs"] == 0
    with pytest.raises(ValueError, match="unknown fault"):
        faults.inject(fail_everything=1)


def test_state_is_readable_after_a_fault(session):
    faults.inject(fail_jobs=1)
    steps.upload(session, SAMPLE, "sample")
    steps.moderate(session)
    with pytest.raises(ModerationJobFailed):
        steps.wait_for_job(session)
    assert state.require("moderation")["job_id"]
