"""helpers.checks: numbers, durations, a loop's input and a notice channel, checked before AWS."""

import json
import math

import numpy as np
import pytest

from helpers import checks
from helpers.errors import InputError


@pytest.mark.parametrize(
    "value, name, kwargs, said",
    [
        ("50", "min_confidence", {"low": 0, "high": 100}, "write 50 without quotes"),
        ("2", "task_count", {"low": 1, "high": 3, "integer": True}, "write 2 without quotes"),
        ("1500", "gap_ms", {"low": 0, "integer": True}, "write 1500 without quotes"),
        ("fifty", "min_confidence", {}, "give `min_confidence` a number"),
        (True, "task_count", {}, "not a number"),
        (None, "gap_ms", {}, "not a number"),
        (math.nan, "min_confidence", {}, "finite"),
        (math.inf, "gap_ms", {}, "finite"),
        (-1, "gap_ms", {"low": 0}, "at least 0"),
        (101, "min_confidence", {"low": 0, "high": 100}, "from 0 to 100"),
        (1.5, "task_count", {"integer": True}, "integer"),
    ],
)
def test_number_refuses_with_the_fix(value, name, kwargs, said):
    with pytest.raises(InputError) as err:
        checks.number(value, name, **kwargs)
    assert name in err.value.what
    assert said in str(err.value)


def test_number_accepts_numbers_of_any_kind():
    assert checks.number(50, "m", low=0, high=100) == 50
    assert checks.number(np.float32(50.5), "m") == np.float32(50.5)
    assert checks.number(2.0, "n", integer=True) == 2
    assert checks.duration_ms(np.int64(0)) == 0
    with pytest.raises(InputError, match="out of range"):
        checks.duration_ms(-5)


def _doc(**changes):
    doc = {
        "schema": "x",
        "video": {"title": "t", "s3_uri": "s3://b/k.mp4", "duration_ms": 10_000},
        "items": [{"id": "a", "start_ms": 0, "end_ms": 1000, "confidence": 90.0}],
        "rules": "lab-v7",
    }
    doc.update(changes)
    return doc


def test_loop_input_is_strict_json():
    text = checks.loop_input(_doc())
    assert json.loads(text)["items"][0]["end_ms"] == 1000


@pytest.mark.parametrize(
    "doc, said",
    [
        (_doc(items=[{"id": "a", "start_ms": 0, "end_ms": 10, "confidence": math.nan}]), "nan"),
        (_doc(video={"s3_uri": "s3://b/k", "duration_ms": math.inf}), "inf"),
        (_doc(extra={"deep": [1.0, [-math.inf]]}), "extra.deep[1][0]"),
        (_doc(items=[{"id": "a", "start_ms": -10, "end_ms": 10}]), "negative time"),
        (_doc(video={"s3_uri": "s3://b/k", "duration_ms": -1}), "video.duration_ms"),
        (_doc(items=[{"id": "a", "start_ms": 500, "end_ms": 100}]), "ends (100 ms) before"),
        (_doc(window={"start_ms": 9, "end_ms": 1, "index": 0, "count": 1}), "window ends"),
        (_doc(items=[{"id": "a", "start_ms": 0, "end_ms": 10, "confidence": 101.0}]), "101.0"),
        (_doc(items=[{"id": "a", "start_ms": 0, "end_ms": 10, "detections": -2}]), "count"),
        ('{"items": [], "video": {"duration_ms": NaN}}', "not strict JSON"),
        ("[1, 2]", "JSON object"),
    ],
    ids=["nan", "infinity", "deep", "negative-start", "negative-duration", "reversed",
         "reversed-window", "confidence-over-100", "negative-count", "nan-text", "not-object"],
)  # fmt: skip
def test_loop_input_refuses(doc, said):
    with pytest.raises(InputError) as err:
        checks.loop_input(doc)
    assert said in str(err.value)
    assert err.value.fix


def test_notification_channel_region():
    role = "arn:aws:iam::111122223333:role/RekognitionNotices"
    topic = "arn:aws:sns:eu-west-1:111122223333:AmazonRekognition-vmk-abcd1"
    channel = {"SNSTopicArn": topic, "RoleArn": role}
    assert checks.notification_channel(channel, "eu-west-1") is channel
    assert checks.notification_channel(None, "eu-west-1") is None
    with pytest.raises(InputError, match="is in eu-west-1, but Rekognition runs in us-east-1"):
        checks.notification_channel(channel, "us-east-1")
    with pytest.raises(InputError, match="not an SNS topic ARN"):
        checks.notification_channel({"SNSTopicArn": "topic", "RoleArn": role}, "eu-west-1")
    with pytest.raises(InputError, match="not an IAM role ARN"):
        checks.notification_channel({"SNSTopicArn": topic, "RoleArn": "r"}, "eu-west-1")
    with pytest.raises(InputError, match="exactly the keys"):
        checks.notification_channel({"SNSTopicArn": topic}, "eu-west-1")
