"""Every bad input is refused before the call AWS would refuse (or bill), with the fix.

The cases here are the README's "Bad input" table (test_readme_lists_every_case keeps the two
in step).
"""

import json
import math
import os
from pathlib import Path

import boto3
import pytest

from helpers import checks, media, moderation, mp4, names, review, session
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


def _folder(tmp_path, **files):
    folder = tmp_path / "videos"
    folder.mkdir(exist_ok=True)
    for name, data in files.items():
        (folder / name.replace("_", "-")).write_bytes(data)
    return folder


def _non_utf8_name(tmp_path):
    raw = os.path.join(os.fsencode(tmp_path), b"clip-\xe9t\xe9.mp4")  # Latin-1 bytes
    with open(raw, "wb") as fh:
        fh.write(SAMPLE.read_bytes())
    return Path(os.fsdecode(raw))


def _rule_file(tmp_path, text):
    path = tmp_path / "rules.json"
    path.write_text(text)
    return path


LOOP_INPUT = {
    "schema": "x",
    "video": {"title": "t", "s3_uri": "s3://b/k.mp4", "duration_ms": 10_000},
    "items": [{"id": "a", "start_ms": 0, "end_ms": 1000, "confidence": 90.0}],
    "rules": "lab-v7",
}
ROLE = "arn:aws:iam::123456789012:role/notices"

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
    "zero-duration": lambda s, t: media.upload_video(s, _file(t, "empty.mp4", mp4.header_only(0))),
    "truncated-mp4": lambda s, t: media.upload_video(
        s, _file(t, "cut.mp4", SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 2])
    ),
    "folder-one-bad": lambda s, t: media.check_video_folder(
        _folder(t, good_mp4=SAMPLE.read_bytes(), bad_mp4=mp4.header_only(0))
    ),
    "missing-folder": lambda s, t: media.check_video_folder(t / "no-such-folder"),
    "non-utf8-name": lambda s, t: media.upload_video(s, _non_utf8_name(t)),
    "bucket-name": lambda s, t: session.connect(
        bucket="My_Videos", run_id="bad02", boto_session=s.boto_session
    ),
    "region-space": lambda s, t: session.connect(
        region="us-east-1 ", run_id="bad03", boto_session=s.boto_session
    ),
    "notice-region": lambda s, t: checks.notification_channel(
        {
            "SNSTopicArn": "arn:aws:sns:eu-west-1:123456789012:AmazonRekognition-vmk-x",
            "RoleArn": ROLE,
        },
        s.region,
    ),
    "label-twice": lambda s, t: RuleSet.load(
        _rule_file(t, '{"categories": {"Drinking": 80, "Weapons": 60, "Drinking": 95}}')
    ),
    "excluded-twice": lambda s, t: RuleSet.from_dict(
        {"categories": {"Drinking": 80}, "exclusions": ["Smoking", "Smoking"]}
    ),
    "negative-duration": lambda s, t: checks.loop_input(
        {**LOOP_INPUT, "video": {"s3_uri": "s3://b/k.mp4", "duration_ms": -1000}}
    ),
    "negative-gap": lambda s, t: checks.duration_ms(-1500, "gap_ms"),
    "nan-in-loop-input": lambda s, t: checks.loop_input(
        {**LOOP_INPUT, "items": [{**LOOP_INPUT["items"][0], "confidence": math.nan}]}
    ),
    "infinity-in-loop-input": lambda s, t: checks.loop_input(
        {**LOOP_INPUT, "video": {"s3_uri": "s3://b/k.mp4", "duration_ms": math.inf}}
    ),
    "min-confidence-text": lambda s, t: checks.number("50", "min_confidence", low=0, high=100),
    "task-count-text": lambda s, t: checks.number("2", "task_count", low=1, high=3, integer=True),
    "gap-ms-text": lambda s, t: checks.number("1500", "gap_ms", low=0, integer=True),
    "answer-schema": lambda s, t: review.answers_frame(
        {
            "humanLoopName": "vmk-loop-x",
            "humanAnswers": [{"answerContent": {"review": json.dumps({"schema": "other"})}}],
        }
    ),
}


#: Cases refused before any AWS call at all (not even a read).
NO_CALL = {"zero-duration", "truncated-mp4", "folder-one-bad", "missing-folder", "non-utf8-name",
           "bucket-name", "region-space", "notice-region", "label-twice", "excluded-twice",
           "negative-duration", "negative-gap", "nan-in-loop-input", "infinity-in-loop-input",
           "min-confidence-text", "task-count-text", "gap-ms-text"}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_with_a_fix_and_no_costly_call(kit, case, reliability):
    s, calls, tmp_path = kit
    calls.clear()
    with pytest.raises(InputError) as err:
        CASES[case](s, tmp_path)
    assert err.value.fix, "the error must say what to do next"
    assert not COSTLY & set(calls), f"{case} made {COSTLY & set(calls)}"
    if case in NO_CALL:
        assert calls == [], f"{case} called {calls} before refusing"
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
