"""Every bad input is refused before the call AWS would refuse (or bill), with the fix.

The cases here are the README's "Bad input" table (test_readme_lists_every_case keeps the two
in step).
"""

import json
from pathlib import Path

import boto3
import pytest

from helpers import media, moderation, mp4, names, review, session
from helpers.errors import ConfigurationError, InputError
from helpers.offline import OfflineSettings, mocked
from helpers.rules import RuleSet

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "media" / "moderation-sample.mp4"
#: Calls that must never happen for a refused input.
COSTLY = {"StartContentModeration", "PutObject", "CreateMultipartUpload", "StartHumanLoop",
          "CreateFlowDefinition", "CreateHumanTaskUi"}  # fmt: skip


@pytest.fixture
def kit(tmp_path, monkeypatch):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    with mocked(OfflineSettings(job_seconds=0)):
        calls: list[str] = []
        bs = boto3.Session()
        bs.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
        yield session.connect(boto_session=bs, run_id="bad01"), calls, tmp_path


def _file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


CASES = {
    "missing-file": lambda s, t: media.upload_video(s, t / "nope.mp4"),
    "not-a-video": lambda s, t: media.upload_video(s, _file(t, "notes.txt", b"hello")),
    "not-mp4-bytes": lambda s, t: media.upload_video(s, _file(t, "fake.mp4", b"x" * 64)),
    "not-h264": lambda s, t: media.upload_video(
        s, _file(t, "hevc.mp4", mp4.header_only(5_000, codec=b"hvc1"))
    ),
    "over-6-hours": lambda s, t: media.upload_video(
        s, _file(t, "long.mp4", mp4.header_only(6 * 3_600_000 + 1_000))
    ),
    "min-confidence": lambda s, t: moderation.start_moderation(
        s.rekognition, s.bucket, "k.mp4", min_confidence=101
    ),
    "request-token": lambda s, t: moderation.start_moderation(
        s.rekognition, s.bucket, "k.mp4", client_request_token="not ok!"
    ),
    "loop-name": lambda s, t: names.check_a2i_name("My_Loop"),
    "name-too-long": lambda s, t: names.check_a2i_name("x" * 64),
    "task-count": lambda s, t: review.flow_definition_config(
        workteam_arn="w", task_ui_arn="u", role_arn="r", output_path="s3://b/o", task_count=5
    ),
    "unknown-category": lambda s, t: RuleSet.from_dict({"categories": {"Nudity Extreme": 80}}),
    "answer-schema": lambda s, t: review.answers_frame(
        {
            "humanLoopName": "vmk-loop-x",
            "humanAnswers": [{"answerContent": {"review": json.dumps({"schema": "other"})}}],
        }
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_with_a_fix_and_no_costly_call(kit, case, reliability):
    s, calls, tmp_path = kit
    calls.clear()
    with pytest.raises(InputError) as err:
        CASES[case](s, tmp_path)
    assert err.value.fix, "the error must say what to do next"
    assert not COSTLY & set(calls), f"{case} made {COSTLY & set(calls)}"
    reliability["bad inputs rejected"] += 1


def test_bucket_in_another_region(kit, reliability):
    _, calls, _ = kit
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="far-away", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    calls.clear()
    with pytest.raises(ConfigurationError, match="not in us-east-1") as err:
        session.connect(region="us-east-1", bucket="far-away")
    assert "use a bucket in us-east-1" in err.value.fix
    assert not COSTLY & set(calls)
    reliability["bad inputs rejected"] += 1


def test_readme_lists_every_case():
    readme = (ROOT / "README.md").read_text()
    for case in [*CASES, "bucket-region"]:
        assert f"`{case}`" in readme, f"README's bad input table lacks `{case}`"
