"""The ground-truth reviewer: answers a loop from what the sample media really show.

``datasets/truth.json`` (made by ``datasets/make_truth.py``) says, for every scene of the sample
video and of its clips, which labels are in view when, and the verdict the kit's sample policy
gives them. An item's **true verdict** is the verdict of the scene labels it overlaps (within
:data:`TOLERANCE_MS`): its own label, or one below it (an ``Alcohol`` item showing
``Drinking``); a violation wins over the rest. An item that overlaps nothing its label covers is
``not_violation`` (Rekognition saw something that is not there).

A simulated reviewer is right with chance ``accuracy``; when wrong it gives the opposite
answer (a violation becomes ``not_violation`` and the reverse). Whether reviewer ``worker``
errs on an item is decided by a hash of (seed, worker, item id): seeded and independent of the
order of the items. With accuracy 1 the reviewer answers the truth itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from helpers import answers, taxonomy

TRUTH_FILE = Path(__file__).resolve().parents[2] / "datasets" / "truth.json"
#: An item within this many ms of a label's time in view is taken to show it (the recording
#: samples every 400-600 ms and its confidences fade out just outside the ``on`` intervals).
TOLERANCE_MS = 700


@cache
def _load(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("schema") != "vmk-truth/1":
        raise ValueError(f"{path}: expected schema vmk-truth/1, got {data.get('schema')!r}")
    return data


def load(path: str | Path = TRUTH_FILE) -> dict[str, list[dict[str, Any]]]:
    """Per video file name, its scenes with what they show (``datasets/truth.json``)."""
    videos: dict[str, list[dict[str, Any]]] = _load(str(path))["videos"]
    return videos


def video_scenes(
    loop_input: Mapping[str, Any], path: str | Path = TRUTH_FILE
) -> list[dict[str, Any]] | None:
    """The truth of the loop input's video, found by its file name (S3 key or title)."""
    video = loop_input.get("video") if isinstance(loop_input.get("video"), Mapping) else {}
    videos = load(path)
    for name in (str(video.get("s3_uri", "")).rsplit("/", 1)[-1], str(video.get("title", ""))):
        if name in videos:
            return videos[name]
        if f"{name}.mp4" in videos:
            return videos[f"{name}.mp4"]
    return None


def _covers(item_label: str, shown: str, shown_level: int) -> bool:
    if item_label == shown:
        return True
    return taxonomy.is_known(item_label) and item_label in taxonomy.ancestors(shown, shown_level)


def true_verdict(item: Mapping[str, Any], scenes: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """``(verdict, category)`` a perfect reviewer gives ``item`` (category for wrong_category)."""
    label = str(item.get("label", ""))
    start = int(item.get("start_ms", 0)) - TOLERANCE_MS
    end = int(item.get("end_ms", 0)) + TOLERANCE_MS
    found: list[str] = []
    for scene in scenes:
        for shown in scene["shows"]:
            if _covers(label, shown["label"], int(shown["level"])) and any(
                a <= end and start <= b for a, b in shown["on"]
            ):
                found.append(str(shown["truth"]))
    if not found:
        return ("not_violation", "")
    if "violation" in found:
        return ("violation", "")
    corrections = [f for f in found if f not in ("violation", "not_violation")]
    if corrections:
        return ("wrong_category", corrections[0])
    return ("not_violation", "")


def errs(seed: str, worker: int, item_id: str, accuracy: float) -> bool:
    """Whether reviewer ``worker`` gets this item wrong (seeded by a hash)."""
    digest = hashlib.sha256(f"{seed}\x00{worker}\x00{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 >= accuracy


def reviewer_verdict(truth: tuple[str, str], wrong: bool) -> tuple[str, str]:
    """The truth, or when ``wrong`` its opposite."""
    if not wrong:
        return truth
    return ("violation", "") if truth[0] == "not_violation" else ("not_violation", "")


def accuracy_of(accuracies: Sequence[float], worker: int) -> float:
    """Reviewer ``worker``'s accuracy: its entry, or the last one for workers beyond the list."""
    return float(accuracies[min(worker, len(accuracies) - 1)]) if accuracies else 1.0


def answer_items(
    loop_input: Any, *, worker: int = 0, accuracies: Sequence[float] = (1.0,), seed: str = ""
) -> tuple[list[dict[str, Any]], str]:
    """The ``vmk-review/1`` items reviewer ``worker`` gives, and a note for the answer."""
    items = loop_input.get("items") if isinstance(loop_input, Mapping) else None
    if not isinstance(items, list):
        return [], f"the input has no `items` list (expected schema {answers.INPUT_SCHEMA})"
    scenes = video_scenes(loop_input)
    accuracy = accuracy_of(accuracies, worker)
    out = []
    for index, item in enumerate(i for i in items if isinstance(i, Mapping)):
        item_id = str(item.get("id", index))
        if scenes is None:
            out.append(answers.answer_item(item_id, "unsure", note="no truth for this video"))
            continue
        verdict, category = reviewer_verdict(
            true_verdict(item, scenes), errs(seed, worker, item_id, accuracy)
        )
        out.append(
            answers.answer_item(
                item_id, verdict, category=category or None, note="ground-truth reviewer"
            )
        )
    note = f"ground-truth reviewer {worker} (accuracy {accuracy:g})"
    if scenes is None:
        note += "; no truth for this video in datasets/truth.json, so every item is unsure"
    return out, note


def answer_content(
    loop_input: Any, *, worker: int = 0, accuracies: Sequence[float] = (1.0,), seed: str = ""
) -> dict[str, str]:
    """``answerContent`` of reviewer ``worker`` for a loop whose input is ``loop_input``."""
    items, note = answer_items(loop_input, worker=worker, accuracies=accuracies, seed=seed)
    doc = {"schema": answers.ANSWER_SCHEMA, "items": items, "notes": note}
    return answers.answer_content(doc)


def kappa_closed_form(first: float, second: float, prevalence: float) -> float:
    """Expected Cohen's kappa of two reviewers with these accuracies on a binary question.

    With errors independent given the truth, ``p_o = a1·a2 + (1 − a1)(1 − a2)``; each reviewer
    says yes with chance ``q = π·a + (1 − π)(1 − a)``, so ``p_e = q1·q2 + (1 − q1)(1 − q2)``
    and kappa is ``(p_o − p_e) / (1 − p_e)``.
    """
    p_o = first * second + (1 - first) * (1 - second)
    q1 = prevalence * first + (1 - prevalence) * (1 - first)
    q2 = prevalence * second + (1 - prevalence) * (1 - second)
    p_e = q1 * q2 + (1 - q1) * (1 - q2)
    return (p_o - p_e) / (1 - p_e)


def output_document(
    loop_input: Mapping[str, Any],
    *,
    loop_name: str,
    accuracies: Sequence[float] = (1.0,),
    task_count: int = 1,
    seed: str = "",
    flow_definition_arn: str = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/sample",
    submitted: str = "2026-01-01T12:00:00.000Z",
) -> dict[str, Any]:
    """An A2I ``output.json`` for ``loop_input`` answered by ``task_count`` simulated reviewers.

    The layout of A2I's output for a custom task type; used for
    the sample reviews in ``datasets/`` and by tests that need many seeded reviews fast.
    """
    answers_out = []
    for worker in range(task_count):
        content = answer_content(loop_input, worker=worker, accuracies=accuracies, seed=seed)
        answers_out.append(
            {
                "answerContent": content,
                "acceptanceTime": submitted.replace("12:00:00", "11:58:00"),
                "submissionTime": submitted,
                "timeSpentInSeconds": 120.0,
                "workerId": f"sample-reviewer-{worker}",
                "workerMetadata": {
                    "identityData": {
                        "identityProviderType": "Cognito",
                        "issuer": "https://cognito-idp.us-east-1.amazonaws.com/sample",
                        "sub": f"sample-reviewer-{worker}",
                    }
                },
            }
        )
    return {
        "flowDefinitionArn": flow_definition_arn,
        "humanLoopName": loop_name,
        "inputContent": dict(loop_input),
        "humanAnswers": answers_out,
    }
