"""Review items, the loop input and answer parsing (no AWS)."""

import json

import pandas as pd
import pytest

from helpers import answers, review
from helpers.errors import InputError


def _flagged(rows):
    df = pd.DataFrame(
        rows, columns=["timestamp_ms", "label", "parent", "level", "category", "confidence"]
    )
    df["start_ms"] = df["timestamp_ms"]
    df["end_ms"] = df["timestamp_ms"]
    df["rule"] = df["label"]
    return df


FLAGGED = _flagged(
    [
        (0, "Drinking", "Alcohol Use", 3, "Alcohol", 90.0),
        (0, "Alcohol Use", "Alcohol", 2, "Alcohol", 91.0),
        (480, "Drinking", "Alcohol Use", 3, "Alcohol", 95.0),
        (1010, "Drinking", "Alcohol Use", 3, "Alcohol", 85.0),
        (9000, "Drinking", "Alcohol Use", 3, "Alcohol", 88.0),
        (500, "Weapons", "Violence", 2, "Violence", 99.0),
    ]
)


def test_parent_rows_at_same_moment_are_dropped():
    out = review.drop_covered_ancestors(FLAGGED)
    assert "Alcohol Use" not in set(out["label"])
    assert len(out) == len(FLAGGED) - 1


def test_items_merge_runs_and_keep_peak():
    items = review.make_review_items(FLAGGED, gap_ms=1500)
    drinking = items[items.label == "Drinking"]
    assert list(drinking["start_ms"]) == [0, 9000]
    assert list(drinking["end_ms"]) == [1010, 9000]
    assert list(drinking["detections"]) == [3, 1]
    assert drinking.iloc[0]["confidence"] == 95.0
    assert items["id"].is_unique
    # ids are stable: derived from content, not position
    again = review.make_review_items(FLAGGED.iloc[::-1], gap_ms=1500)
    assert sorted(again["id"]) == sorted(items["id"])


def test_loop_input_and_size_limit():
    items = review.make_review_items(FLAGGED)
    doc = review.build_loop_input(
        items, video_s3_uri="s3://b/v.mp4", title="t", duration_ms=10_000, rules_name="lab-v7"
    )
    assert doc["schema"] == answers.INPUT_SCHEMA
    assert {i["id"] for i in doc["items"]} == set(items["id"])
    assert json.loads(review.input_content(doc)) == doc
    huge = dict(doc, video=dict(doc["video"], title="x" * (review.MAX_INPUT_CHARS + 1)))
    with pytest.raises(InputError, match="at most"):
        review.input_content(huge)


def _output(items_answer):
    return {
        "humanLoopName": "vmk-loop-x",
        "humanAnswers": [
            {
                "answerContent": {answers.ANSWER_FIELD: json.dumps(items_answer)},
                "submissionTime": "2026-11-24T10:00:00.123Z",
                "timeSpentInSeconds": 12.5,
                "workerId": "w1",
            }
        ],
    }


def test_answers_parse_and_reject_bad_schema():
    good = {
        "schema": answers.ANSWER_SCHEMA,
        "items": [{"id": "i-1", "verdict": "violation"}],
        "notes": "",
    }
    frame = review.answers_frame(_output(good))
    assert frame.loc[0, "verdict"] == "violation"
    assert frame.loc[0, "submitted"].year == 2026
    bad = {"schema": answers.ANSWER_SCHEMA, "items": [{"id": "i-1", "verdict": "maybe"}]}
    with pytest.raises(InputError, match="verdict"):
        review.answers_frame(_output(bad))
    with pytest.raises(InputError, match="schema"):
        review.answers_frame(_output({"schema": "other", "items": []}))


def test_flow_definition_config_checks():
    with pytest.raises(InputError, match="task_count"):
        review.flow_definition_config(
            workteam_arn="w", task_ui_arn="u", role_arn="r", output_path="s3://b/", task_count=4
        )
    with pytest.raises(InputError, match="s3://"):
        review.flow_definition_config(
            workteam_arn="w", task_ui_arn="u", role_arn="r", output_path="b/"
        )
