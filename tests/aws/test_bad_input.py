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

from helpers import (
    batch,
    loops,
    media,
    moderation,
    mp4,
    names,
    provision,
    review,
    session,
    tuner,
)
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
        stem, suffix = name.rsplit("_", 1)  # good_mp4 -> good.mp4
        (folder / f"{stem}.{suffix}").write_bytes(data)
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
SHA = "ab" * 32
VIDEO = {"s3_uri": "s3://b/k.mp4", "title": "t"}


def _labels():
    """Three Drinking detections, as moderation.all_labels gives them (notebook 4's input)."""
    return moderation.labels_frame(
        [
            {
                "Timestamp": t,
                "ModerationLabel": {
                    "Name": "Drinking",
                    "ParentName": "Alcohol Use",
                    "TaxonomyLevel": 3,
                    "Confidence": 90.0,
                },
            }
            for t in (1000, 1500, 2000)
        ]
    )


def _tune(gap_ms):
    """Notebook 4's `tuner.tune(labels, rule_set, gap_ms)`."""
    return tuner.tune(_labels(), RuleSet.load("lab-v7"), gap_ms, plot=False)


def _loop_requests(**item):
    """Notebook 4's `loops.requests(result.items, ...)` with one item's fields changed."""
    items = _tune(1500).items.assign(**item)
    return loops.requests(
        items, run_id="bad01", video=VIDEO, duration_ms=10_000, rules_name="lab-v7"
    )


def _start_job(s, min_confidence):
    """Notebook 2's cell: the call is in the cell; request_token checks before it is sent."""
    return s.rekognition.start_content_moderation(
        Video={"S3Object": {"Bucket": s.bucket, "Name": "k.mp4"}},
        MinConfidence=min_confidence,
        ClientRequestToken=moderation.request_token(s.run_id, SHA, min_confidence),
    )


def _flow(s, **config):
    """Notebook 3's flow definition cell, with HumanLoopConfig's fields changed."""
    request = {
        "HumanLoopConfig": {
            "WorkteamArn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/t",
            "HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/u",
            "TaskTitle": "Review flagged moments in a video",
            "TaskDescription": "Give a verdict on every flagged moment of the video",
            "TaskCount": 1,
            "TaskAvailabilityLifetimeInSeconds": 86_400,
            **config,
        },
        "OutputConfig": {"S3OutputPath": f"s3://{s.bucket}/{s.prefix}/a2i-output"},
        "RoleArn": s.role_arn,
        "Tags": names.kit_tags(s.run_id),
    }
    request["FlowDefinitionName"] = provision.name_for("flow", s.run_id, request)
    return provision.ensure(s.sagemaker.create_flow_definition, **request)


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
    "min-confidence": lambda s, t: _start_job(s, 101),
    "request-token": lambda s, t: moderation.start_moderation(
        s.rekognition, s.bucket, "k.mp4", client_request_token="not ok!"
    ),
    "loop-name": lambda s, t: names.check_a2i_name("My_Loop"),
    "name-too-long": lambda s, t: names.check_a2i_name("x" * 64),
    "task-count": lambda s, t: _flow(s, TaskCount=5),
    "task-time-limit": lambda s, t: _flow(s, TaskTimeLimitInSeconds="1800"),
    "unknown-category": lambda s, t: RuleSet.from_dict({"categories": {"Nudity Extreme": 80}}),
    "zero-duration": lambda s, t: media.upload_video(s, _file(t, "empty.mp4", mp4.header_only(0))),
    "truncated-mp4": lambda s, t: media.upload_video(
        s, _file(t, "cut.mp4", SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 2])
    ),
    "folder-one-bad": lambda s, t: batch.videos_in_folder(
        s, _folder(t, good_mp4=SAMPLE.read_bytes(), bad_mp4=mp4.header_only(0))
    ),
    "missing-folder": lambda s, t: batch.videos_in_folder(s, t / "no-such-folder"),
    "non-utf8-name": lambda s, t: media.upload_video(s, _non_utf8_name(t)),
    "bucket-name": lambda s, t: session.connect(
        bucket="My_Videos", run_id="bad02", boto_session=s.boto_session
    ),
    "region-space": lambda s, t: session.connect(
        region="us-east-1 ", run_id="bad03", boto_session=s.boto_session
    ),
    "notice-region": lambda s, t: moderation.start_moderation(
        s.rekognition,
        s.bucket,
        "k.mp4",
        notification_channel={
            "SNSTopicArn": "arn:aws:sns:eu-west-1:123456789012:AmazonRekognition-vmk-x",
            "RoleArn": ROLE,
        },
    ),
    "label-twice": lambda s, t: RuleSet.load(
        _rule_file(t, '{"categories": {"Drinking": 80, "Weapons": 60, "Drinking": 95}}')
    ),
    "excluded-twice": lambda s, t: RuleSet.from_dict(
        {"categories": {"Drinking": 80}, "exclusions": ["Smoking", "Smoking"]}
    ),
    "negative-duration": lambda s, t: review.input_content(
        {**LOOP_INPUT, "video": {"s3_uri": "s3://b/k.mp4", "duration_ms": -1000}}
    ),
    "negative-item-time": lambda s, t: _loop_requests(start_ms=-1000),
    "negative-gap": lambda s, t: _tune(-1500),
    "nan-in-loop-input": lambda s, t: _loop_requests(confidence=math.nan),
    "infinity-in-loop-input": lambda s, t: review.input_content(
        {**LOOP_INPUT, "video": {"s3_uri": "s3://b/k.mp4", "duration_ms": math.inf}}
    ),
    "min-confidence-text": lambda s, t: _start_job(s, "50"),
    "task-count-text": lambda s, t: _flow(s, TaskCount="2"),
    "gap-ms-text": lambda s, t: _tune("1500"),
    "segments-gap-text": lambda s, t: review.make_review_items(_labels(), gap_ms="1500"),
    "answer-schema": lambda s, t: review.answers_frame(
        {
            "humanLoopName": "vmk-loop-x",
            "humanAnswers": [{"answerContent": {"review": json.dumps({"schema": "other"})}}],
        }
    ),
}


#: Cases refused before any AWS call at all (not even a read).
NO_CALL = {"min-confidence", "task-count", "task-time-limit", "notice-region",
           "negative-item-time", "segments-gap-text", "zero-duration", "truncated-mp4",
           "folder-one-bad", "missing-folder", "non-utf8-name",
           "bucket-name", "region-space", "label-twice", "excluded-twice",
           "negative-duration", "negative-gap", "nan-in-loop-input", "infinity-in-loop-input",
           "min-confidence-text", "task-count-text", "gap-ms-text"}  # fmt: skip
#: Each case above goes through the path a notebook takes (the helper the cell calls), except
#: these, which test a check on its own: label-twice/excluded-twice (RuleSet), the names and
#: the session's region and bucket, and the media checks of one file.


#: What the error says, for the cases that go through a notebook's path (the check that
#: refused is the one meant, not an earlier one by accident).
SAYS = {
    "min-confidence": "`min_confidence` is 101, out of range",
    "min-confidence-text": "write 50 without quotes",
    "task-count": "`TaskCount` is 5, out of range",
    "task-count-text": "write 2 without quotes",
    "task-time-limit": "write 1800 without quotes",
    "notice-region": "publishes only to topics of its own region",
    "negative-duration": "negative time at `video.duration_ms`",
    "negative-item-time": "negative time at `items[0].start_ms`",
    "negative-gap": "`gap_ms` is -1500, out of range",
    "gap-ms-text": "write 1500 without quotes",
    "segments-gap-text": "write 1500 without quotes",
    "nan-in-loop-input": "nan at `items[0].confidence`",
    "infinity-in-loop-input": "inf at `video.duration_ms`",
    "folder-one-bad": "1 of the 2 videos",
    "missing-folder": "does not exist",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_with_a_fix_and_no_costly_call(kit, case, reliability):
    s, calls, tmp_path = kit
    calls.clear()
    with pytest.raises(InputError) as err:
        CASES[case](s, tmp_path)
    assert err.value.fix, "the error must say what to do next"
    assert SAYS.get(case, "") in str(err.value)
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
