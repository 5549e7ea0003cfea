"""The exercises' checks: a hint when unsolved, specific feedback when wrong, a pass when right."""

import pandas as pd
import pytest

from helpers import exercises
from helpers.rules import RuleSet


@pytest.fixture
def labels():
    rows = [
        ("Drinking", "Alcohol", 90.0),
        ("Alcohol", "Alcohol", 91.0),
        ("Weapons", "Violence", 75.0),
        ("Weapons", "Violence", 65.0),
        ("Gambling", "Gambling", 80.0),
    ]
    frame = pd.DataFrame(rows, columns=["label", "category", "confidence"])
    return frame.assign(
        timestamp_ms=range(len(frame)), parent="", level=1, start_ms=0, end_ms=0, duration_ms=0
    )


def test_category_counts(labels):
    assert not exercises.check_category_counts(None, labels).ok
    assert "Hint" in str(exercises.check_category_counts(None, labels))
    per_label = labels.groupby("label").size()
    assert "per label" in str(exercises.check_category_counts(per_label, labels))
    wrong = labels.groupby("category").size().drop("Gambling")
    assert "missing" in str(exercises.check_category_counts(wrong, labels))
    off = labels.groupby("category").size() + 1
    assert "Alcohol: you have 3, there are 2" in str(exercises.check_category_counts(off, labels))
    right = exercises.check_category_counts(labels["category"].value_counts(), labels)
    assert right.ok and "3 categories" in str(right)
    assert "Well done" in right._repr_markdown_()


def test_task_time_limit():
    request = {"HumanLoopConfig": {"TaskCount": 1}}
    assert "Hint" in str(exercises.check_task_time_limit(request))
    top = {**request, "TaskTimeLimitInSeconds": 1800}
    assert "inside `HumanLoopConfig`" in str(exercises.check_task_time_limit(top))
    minutes = {"HumanLoopConfig": {"TaskTimeLimitInSeconds": 30}}
    assert "A2I counts seconds" in str(exercises.check_task_time_limit(minutes))
    text = {"HumanLoopConfig": {"TaskTimeLimitInSeconds": "1800"}}
    assert "whole number" in str(exercises.check_task_time_limit(text))
    hour = {"HumanLoopConfig": {"TaskTimeLimitInSeconds": 3600}}
    assert "60 minutes, not 30" in str(exercises.check_task_time_limit(hour))
    assert exercises.check_task_time_limit({"HumanLoopConfig": {"TaskTimeLimitInSeconds": 1800}})


def test_weapons_rule(labels):
    assert "Hint" in str(exercises.check_weapons_rule(None, labels))
    assert "RuleSet" in str(exercises.check_weapons_rule({"Weapons": 70}, labels))
    at_80 = RuleSet("w", {"Weapons": 80})
    assert "Weapons is at 80; use 70" in str(exercises.check_weapons_rule(at_80, labels))
    more = RuleSet("w", {"Weapons": 70, "Drinking": 80})
    assert "remove Drinking" in str(exercises.check_weapons_rule(more, labels))
    none = RuleSet("w", {"Drinking": 80})
    assert "no `Weapons`" in str(exercises.check_weapons_rule(none, labels))
    right = exercises.check_weapons_rule(RuleSet("w", {"Weapons": 70}), labels)
    assert right.ok and "1 detection(s)" in str(right)


def test_wrong_category():
    verdicts = pd.DataFrame(
        {
            "label": ["Drinking", "Weapons", "Gambling"],
            "verdict": ["violation", "wrong_category", "not_violation"],
            "corrected_category": ["", "Explosions and Blasts", ""],
        }
    )
    assert "Hint" in str(exercises.check_wrong_category(None, verdicts))
    assert "other verdicts: not_violation, violation" in str(
        exercises.check_wrong_category(verdicts, verdicts)
    )
    assert "keep a frame" in str(exercises.check_wrong_category([], verdicts))
    right = exercises.check_wrong_category(verdicts[verdicts.verdict == "wrong_category"], verdicts)
    assert right.ok and "Weapons → Explosions and Blasts" in str(right)
    none = verdicts[verdicts.verdict == "x"]
    assert exercises.check_wrong_category(none, none).ok
