"""Checks for the notebooks' hands-on exercises: specific feedback, never a crash.

Each check takes the attendee's answer (``None`` while the exercise is not done) and what it
should be computed from, and returns a :class:`Feedback`: ``ok`` and one or more sentences.
An unsolved exercise gives a hint, so a notebook run from top to bottom still reaches its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # notebook 3's exercise needs no pandas: it loads when a check needs it
    import pandas as pd


@dataclass
class Feedback:
    """The outcome of an exercise check: ``ok`` and the sentences a person reads."""

    exercise: str
    ok: bool
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        mark = "Well done" if self.ok else "Not yet"
        return "\n".join([f"{mark}: {self.exercise}", *(f"  - {line}" for line in self.lines)])

    def _repr_markdown_(self) -> str:
        mark = "✅ **Well done**" if self.ok else "💡 **Not yet**"
        return "\n".join([f"{mark}: {self.exercise}", "", *(f"- {line}" for line in self.lines)])

    __repr__ = __str__


# --- 02: detections per top-level category ----------------------------------------------------


def check_category_counts(answer: Any, labels: pd.DataFrame) -> Feedback:
    """02: ``answer`` should count the detections per top-level category (``category``)."""
    import pandas as pd

    name = "count the detections per top-level category"
    if answer is None:
        return Feedback(
            name,
            False,
            [
                "Hint: every row of `labels` is one detection, and its `category` column holds "
                "its top-level category.",
                "Try `labels.groupby(...).size()` or `labels[...].value_counts()`.",
            ],
        )
    if isinstance(answer, pd.DataFrame) and answer.shape[1] == 1:
        answer = answer.iloc[:, 0]
    if not isinstance(answer, pd.Series):
        return Feedback(name, False, [f"Your answer is a {type(answer).__name__}; make a Series."])
    expected = labels.groupby("category").size()
    if set(answer.index) == set(labels["label"]) and set(answer.index) != set(expected.index):
        return Feedback(
            name, False, ["You counted per label; group by the top-level `category` instead."]
        )
    missing = sorted(set(expected.index) - set(answer.index))
    extra = sorted(set(answer.index) - set(expected.index))
    lines = []
    if missing:
        lines.append(f"Categories missing from your answer: {', '.join(map(str, missing))}.")
    if extra:
        lines.append(f"These are not top-level categories here: {', '.join(map(str, extra))}.")
    wrong = [
        f"{cat}: you have {answer[cat]}, there are {expected[cat]}"
        for cat in expected.index
        if cat in answer.index and answer[cat] != expected[cat]
    ]
    if wrong:
        lines.append("Counts that differ: " + "; ".join(wrong) + ".")
    if lines:
        return Feedback(name, False, lines)
    top = expected.idxmax() if len(expected) else "none"
    return Feedback(name, True, [f"{len(expected)} categories; the most detected is {top}."])


# --- 03: the flow definition's time limit -----------------------------------------------------


def check_task_time_limit(request: dict[str, Any], minutes: int = 30) -> Feedback:
    """03: the request's ``HumanLoopConfig`` should give each reviewer ``minutes`` per task."""
    name = f"give each reviewer at most {minutes} minutes per task"
    if "TaskTimeLimitInSeconds" in request:
        return Feedback(
            name,
            False,
            ["You set it at the top of the request; it belongs inside `HumanLoopConfig`."],
        )
    config = request.get("HumanLoopConfig", {})
    if "TaskTimeLimitInSeconds" not in config:
        return Feedback(
            name,
            False,
            [
                "Hint: add the key `TaskTimeLimitInSeconds` to "
                '`flow_request["HumanLoopConfig"]`, in seconds.',
                "A2I's default is 3,600 seconds (an hour).",
            ],
        )
    value = config["TaskTimeLimitInSeconds"]
    if not isinstance(value, int) or isinstance(value, bool):
        return Feedback(name, False, [f"A2I wants a whole number of seconds, not {value!r}."])
    if value == minutes:
        return Feedback(name, False, [f"{value} is in minutes; A2I counts seconds."])
    if value != minutes * 60:
        return Feedback(name, False, [f"{value} s is {value / 60:g} minutes, not {minutes}."])
    return Feedback(
        name, True, [f"{value} s. A new name follows from the edited request: a new flow."]
    )


# --- 04: a rule for Weapons -------------------------------------------------------------------


def check_weapons_rule(rules: Any, labels: pd.DataFrame, threshold: float = 70.0) -> Feedback:
    """04: ``rules`` (a RuleSet) should flag Weapons detections at ``threshold``% or more only."""
    from helpers.rules import RuleSet, apply_rules

    name = f"write a rule that flags Weapons at {threshold:g}% or more"
    if rules is None:
        return Feedback(
            name,
            False,
            [
                'Hint: `RuleSet.from_dict({"name": "weapons", "categories": {...}})`; '
                "categories map a v7 label to its minimum confidence.",
            ],
        )
    if not isinstance(rules, RuleSet):
        return Feedback(name, False, ["Make a RuleSet (RuleSet.from_dict or RuleSet.load)."])
    lines = []
    if "Weapons" not in rules.categories:
        lines.append("Your rules have no `Weapons` category (check the spelling: v7 name).")
    elif rules.categories["Weapons"] != threshold:
        lines.append(f"Weapons is at {rules.categories['Weapons']:g}; use {threshold:g}.")
    others = sorted(set(rules.categories) - {"Weapons"})
    if others:
        lines.append(f"Only Weapons: remove {', '.join(others)}.")
    if lines:
        return Feedback(name, False, lines)
    flagged = apply_rules(labels, rules)
    return Feedback(name, True, [f"It flags {len(flagged)} detection(s) in this video."])


# --- 05: wrong category -----------------------------------------------------------------------


def check_wrong_category(answer: Any, verdicts: pd.DataFrame) -> Feedback:
    """05: ``answer`` should be the verdict rows a reviewer marked as the wrong category."""
    import pandas as pd

    name = "find the items a reviewer marked as the wrong category"
    if answer is None:
        return Feedback(
            name,
            False,
            [
                "Hint: the `verdict` column holds `violation`, `not_violation`, "
                "`wrong_category` or `unsure`.",
                "Filter the rows: `verdicts[verdicts[...] == ...]`.",
            ],
        )
    if not isinstance(answer, pd.DataFrame):
        return Feedback(name, False, [f"Your answer is a {type(answer).__name__}; keep a frame."])
    expected = verdicts[verdicts["verdict"] == "wrong_category"]
    if "verdict" not in answer.columns:
        return Feedback(name, False, ["Keep the `verdict` column in your answer."])
    others = sorted(set(answer["verdict"].dropna()) - {"wrong_category"})
    if others:
        return Feedback(name, False, [f"Your rows include other verdicts: {', '.join(others)}."])
    if len(answer) != len(expected):
        return Feedback(
            name, False, [f"You found {len(answer)} row(s); there are {len(expected)}."]
        )
    if expected.empty:
        return Feedback(name, True, ["No reviewer marked a wrong category in this run."])
    pairs = sorted(set(zip(expected["label"], expected["corrected_category"], strict=True)))
    shown = "; ".join(f"{a} → {b}" for a, b in pairs)
    return Feedback(name, True, [f"{len(expected)} row(s). Reviewers' corrections: {shown}."])
