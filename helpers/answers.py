"""The contract between the kit, the reviewer's page and A2I's output.

The schema is written down in ``templates/reviewer/ANSWER_SCHEMA.md`` (with a JSON Schema in
``templates/reviewer/answer.schema.json``); this module builds and checks the documents.

Two documents cross the wire:

* the human loop **input** (StartHumanLoop ``InputContent``), built by :mod:`helpers.review`::

    {"schema": "vmk-input/1",
     "video": {"title": str, "s3_uri": "s3://bucket/key", "duration_ms": int},
     "items": [{"id": "i0001", "label": str, "parent": str, "category": str,
                "start_ms": int, "end_ms": int, "confidence": float, "detections": int}],
     "rules": str,
     "window": {"start_ms": int, "end_ms": int, "index": int, "count": int}}

  ``window`` is present only when the review is split into several loops because one input
  would exceed A2I's 3,145,728 characters (:func:`helpers.review.plan_loop_inputs`): loop
  ``index`` (0-based) of ``count`` holds the items whose ``start_ms`` falls in
  ``[start_ms, end_ms)`` of the video; the windows follow each other without gap or overlap,
  so every item is in exactly one loop. Readers ignore fields they do not know.

* the reviewer's **answer**. The page submits one hidden field, ``review``, holding a JSON
  string, so A2I's ``humanAnswers[i].answerContent`` is ``{"review": "<json>"}`` where the
  JSON is::

    {"schema": "vmk-review/2",
     "items": [{"id": "i0001", "verdict": "violation" | "not_violation" | "wrong_category"
                | "unsure", "category": str | null, "note": str,
                "escalate": bool, "bulk": bool,
                "start_ms": int, "end_ms": int, "adjusted": bool}],
     "added": [{"id": "added-1", "label": str, "category": str, "start_ms": int,
                "end_ms": int, "note": str, "escalate": bool}],
     "notes": str}

  Version 2 adds the range the reviewer accepts for each item (``adjusted`` when it differs
  from Rekognition's) and the moments the reviewer added (``added``, each with a v7 label).
  Version 1 answers (no ranges, no ``added``) are still read: :func:`validate_review` and
  :func:`parse_answer_content` take both, and :func:`changes_frame` lists adjusted and added
  items of either (none for version 1).

  ``category`` is the reviewer's corrected v7 label when the verdict is ``wrong_category`` (and
  null otherwise). ``escalate`` asks a senior moderator to look at the item; ``bulk`` says the
  verdict came from a "whole category" button. Items are keyed by ``id``, never by timestamp
  and name. ``note``, ``escalate`` and ``bulk`` are optional for readers (answers written
  before they existed stay valid).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from helpers import taxonomy

INPUT_SCHEMA = "vmk-input/1"
ANSWER_SCHEMA_V1 = "vmk-review/1"
#: The answer schema the page writes now.
ANSWER_SCHEMA = "vmk-review/2"
#: Every answer schema the helpers read.
ANSWER_SCHEMAS = (ANSWER_SCHEMA_V1, ANSWER_SCHEMA)
#: The name of the page's hidden input that carries the answer JSON.
ANSWER_FIELD = "review"
VERDICTS = ("violation", "not_violation", "wrong_category", "unsure")
#: The fields of an answer item, in the order the page and the auto reviewer write them.
ITEM_FIELDS = ("id", "verdict", "category", "note", "escalate", "bulk")
#: Version 2 adds the item's range as the reviewer accepts it.
RANGE_FIELDS = ("start_ms", "end_ms", "adjusted")
#: The fields of an added moment (``added`` in version 2).
ADDED_FIELDS = ("id", "label", "category", "start_ms", "end_ms", "note", "escalate")
#: The columns of :func:`changes_frame`.
CHANGE_COLUMNS = (
    "worker",
    "change",
    "id",
    "label",
    "category",
    "start_ms",
    "end_ms",
    "input_start_ms",
    "input_end_ms",
    "note",
    "escalate",
)

_REVIEWER = Path(__file__).resolve().parent.parent / "templates" / "reviewer"
#: The written schema (people) and the JSON Schema (tools) of the answer.
SCHEMA_DOC = _REVIEWER / "ANSWER_SCHEMA.md"
JSON_SCHEMA = _REVIEWER / "answer.schema.json"


class AnswerError(ValueError):
    """An answer that follows neither ``vmk-review/1`` nor ``/2``; the message says why."""


def answer_item(
    item_id: str,
    verdict: str,
    *,
    category: str | None = None,
    note: str = "",
    escalate: bool = False,
    bulk: bool = False,
    start_ms: int | None = None,
    end_ms: int | None = None,
    adjusted: bool = False,
) -> dict[str, Any]:
    """One item of an answer, with every field, as the reviewer's page writes it.

    With ``start_ms`` and ``end_ms`` (version 2), the item also carries the range the reviewer
    accepts and whether it differs from the input's (``adjusted``).
    """
    item: dict[str, Any] = {
        "id": item_id,
        "verdict": verdict,
        "category": category if verdict == "wrong_category" else None,
        "note": note,
        "escalate": bool(escalate),
        "bulk": bool(bulk),
    }
    if start_ms is not None and end_ms is not None:
        item.update(start_ms=int(start_ms), end_ms=int(end_ms), adjusted=bool(adjusted))
    return item


def added_item(
    item_id: str,
    label: str,
    start_ms: int,
    end_ms: int,
    *,
    note: str = "",
    escalate: bool = False,
) -> dict[str, Any]:
    """A moment the reviewer added (``added`` of a version 2 answer), as the page writes it."""
    return {
        "id": item_id,
        "label": label,
        "category": taxonomy.top_level(label) if taxonomy.is_known(label) else label,
        "start_ms": int(start_ms),
        "end_ms": int(end_ms),
        "note": note,
        "escalate": bool(escalate),
    }


def review_document(
    items: Iterable[Mapping[str, Any]],
    notes: str = "",
    added: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A ``vmk-review/2`` document (checked) from answer items and added moments."""
    doc = {
        "schema": ANSWER_SCHEMA,
        "items": [dict(item) for item in items],
        "added": [dict(item) for item in added],
        "notes": notes,
    }
    validate_review(doc)
    return doc


def answer_content(doc: Mapping[str, Any]) -> dict[str, str]:
    """``answerContent`` as crowd-form submits it: the hidden field with the JSON string."""
    return {ANSWER_FIELD: json.dumps(doc, ensure_ascii=False)}


def _where(index: int, item: Any) -> str:
    item_id = item.get("id") if isinstance(item, dict) else None
    return f"items[{index}]" + (f" (id {item_id!r})" if isinstance(item_id, str) else "")


def _check_item(index: int, item: Any) -> None:
    where = _where(index, item)
    if not isinstance(item, dict):
        raise AnswerError(f"{where} is {type(item).__name__}, not an object")
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise AnswerError(f"{where} has no `id` (a non-empty string)")
    verdict = item.get("verdict")
    if verdict not in VERDICTS:
        raise AnswerError(f"{where} has verdict {verdict!r}; expected one of {', '.join(VERDICTS)}")
    category = item.get("category")
    if verdict == "wrong_category":
        if not isinstance(category, str) or not taxonomy.is_known(category):
            raise AnswerError(
                f"{where} is `wrong_category` but its category {category!r} is not a label of "
                "the v7 taxonomy"
            )
    elif category not in (None, ""):
        raise AnswerError(
            f"{where} has category {category!r} with verdict {verdict!r}; only "
            "`wrong_category` carries a category"
        )
    if not isinstance(item.get("note", ""), str):
        raise AnswerError(f"{where} has a `note` that is not a string")
    for flag in ("escalate", "bulk"):
        if not isinstance(item.get(flag, False), bool):
            raise AnswerError(f"{where} has `{flag}` {item.get(flag)!r}; expected true or false")


def _is_ms(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_range(where: str, item: dict[str, Any], required: bool) -> None:
    has = [name for name in ("start_ms", "end_ms") if name in item]
    if not has and not required:
        return
    if len(has) < 2:
        raise AnswerError(f"{where} needs both `start_ms` and `end_ms`")
    start, end = item["start_ms"], item["end_ms"]
    if not (_is_ms(start) and _is_ms(end)):
        raise AnswerError(
            f"{where} has `start_ms` {start!r} and `end_ms` {end!r}; expected whole "
            "milliseconds, 0 or more"
        )
    if end < start:
        raise AnswerError(f"{where} ends ({end} ms) before it starts ({start} ms)")


def _check_item_v2(index: int, item: Any) -> None:
    _check_item(index, item)
    where = _where(index, item)
    _check_range(where, item, required=False)
    if not isinstance(item.get("adjusted", False), bool):
        flag = item.get("adjusted")
        raise AnswerError(f"{where} has `adjusted` {flag!r}; expected true or false")


def _check_added(index: int, item: Any) -> None:
    where = f"added[{index}]"
    if not isinstance(item, dict):
        raise AnswerError(f"{where} is {type(item).__name__}, not an object")
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise AnswerError(f"{where} has no `id` (a non-empty string)")
    where += f" (id {item_id!r})"
    label = item.get("label")
    if not isinstance(label, str) or not taxonomy.is_known(label):
        raise AnswerError(f"{where} has label {label!r}, not a label of the v7 taxonomy")
    if not isinstance(item.get("category", ""), str):
        raise AnswerError(f"{where} has a `category` that is not a string")
    _check_range(where, item, required=True)
    if not isinstance(item.get("note", ""), str):
        raise AnswerError(f"{where} has a `note` that is not a string")
    if not isinstance(item.get("escalate", False), bool):
        flag = item.get("escalate")
        raise AnswerError(f"{where} has `escalate` {flag!r}; expected true or false")


def validate_review(
    doc: Any, input_items: Iterable[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Check a ``vmk-review/1`` or ``/2`` document; return it. Raises :class:`AnswerError`.

    With ``input_items`` (the loop input's ``items``), the answer must give exactly one verdict
    to every input item and name no other.
    """
    if not isinstance(doc, dict):
        raise AnswerError(f"the answer is {type(doc).__name__}, not a JSON object")
    schema = doc.get("schema")
    if schema not in ANSWER_SCHEMAS:
        expected = " or ".join(repr(s) for s in ANSWER_SCHEMAS)
        raise AnswerError(f"schema is {schema!r}, expected {expected}")
    v2 = schema == ANSWER_SCHEMA
    items = doc.get("items")
    if not isinstance(items, list):
        raise AnswerError("`items` is missing or not a list")
    if not isinstance(doc.get("notes", ""), str):
        raise AnswerError("`notes` is not a string")
    seen: set[str] = set()
    for index, item in enumerate(items):
        (_check_item_v2 if v2 else _check_item)(index, item)
        if item["id"] in seen:
            raise AnswerError(f"{_where(index, item)} repeats an id already answered")
        seen.add(item["id"])
    added = doc.get("added", []) if v2 else []
    if not isinstance(added, list):
        raise AnswerError("`added` is not a list")
    for index, item in enumerate(added):
        _check_added(index, item)
        if item["id"] in seen:
            raise AnswerError(f"added[{index}] (id {item['id']!r}) repeats an id of the answer")
        seen.add(item["id"])
    seen -= {item["id"] for item in added}
    if input_items is not None:
        expected = [str(i.get("id")) for i in input_items if isinstance(i, Mapping)]
        missing = [i for i in expected if i not in seen]
        unknown = sorted(seen - set(expected))
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise AnswerError(f"{len(missing)} input item(s) have no verdict: {shown}")
        if unknown:
            shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise AnswerError(f"{len(unknown)} answered id(s) are not in the input: {shown}")
    return doc


def parse_answer_content(
    content: Any, input_items: Iterable[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The checked ``vmk-review/1`` or ``/2`` document inside an ``answerContent``.

    Raises :class:`AnswerError` when the field is missing, is not JSON, or the document does
    not follow the schema.
    """
    if not isinstance(content, dict):
        raise AnswerError(f"answerContent is {type(content).__name__}, not an object")
    if ANSWER_FIELD not in content:
        fields = ", ".join(sorted(map(str, content))) or "none"
        raise AnswerError(f"answerContent has no `{ANSWER_FIELD}` field (fields: {fields})")
    raw = content[ANSWER_FIELD]
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as err:
            raise AnswerError(f"`{ANSWER_FIELD}` is not valid JSON ({err})") from None
    return validate_review(raw, input_items)


def json_schema() -> dict[str, Any]:
    """The answer's JSON Schema (``templates/reviewer/answer.schema.json``)."""
    schema: dict[str, Any] = json.loads(JSON_SCHEMA.read_text(encoding="utf-8"))
    return schema


def changes_frame(output: Mapping[str, Any]) -> Any:
    """The items reviewers adjusted or added, from an A2I ``output.json`` (a DataFrame).

    One row per worker and change, with the columns :data:`CHANGE_COLUMNS`: ``change`` is
    ``"adjusted"`` (an input item whose range the reviewer changed; ``input_start_ms`` and
    ``input_end_ms`` give Rekognition's range) or ``"added"`` (a moment the reviewer added; the
    input columns are empty). Label and category of an adjusted item come from the loop's input.
    Version 1 answers have no changes. Raises :class:`AnswerError` for an answer off schema
    (``helpers.review.answers_frame`` names the loop and the worker for the same answers).
    """
    import pandas as pd

    loop_input = output.get("inputContent")
    input_items = loop_input.get("items") if isinstance(loop_input, dict) else None
    by_id = {
        str(item.get("id")): item
        for item in (input_items if isinstance(input_items, list) else [])
        if isinstance(item, Mapping)
    }
    rows: list[dict[str, Any]] = []
    for answer in output.get("humanAnswers") or []:
        if not isinstance(answer, dict):
            raise AnswerError("a human answer is not a JSON object")
        worker = answer.get("workerId", "")
        doc = parse_answer_content(answer.get("answerContent"))
        for item in doc["items"]:
            if not item.get("adjusted"):
                continue
            source = by_id.get(item["id"], {})
            rows.append(
                {
                    "worker": worker,
                    "change": "adjusted",
                    "id": item["id"],
                    "label": source.get("label", ""),
                    "category": source.get("category", ""),
                    "start_ms": item["start_ms"],
                    "end_ms": item["end_ms"],
                    "input_start_ms": source.get("start_ms"),
                    "input_end_ms": source.get("end_ms"),
                    "note": item.get("note", ""),
                    "escalate": bool(item.get("escalate", False)),
                }
            )
        for item in doc.get("added", []) if doc["schema"] == ANSWER_SCHEMA else []:
            rows.append(
                {
                    "worker": worker,
                    "change": "added",
                    "id": item["id"],
                    "label": item["label"],
                    "category": item.get("category") or taxonomy.top_level(item["label"]),
                    "start_ms": item["start_ms"],
                    "end_ms": item["end_ms"],
                    "input_start_ms": None,
                    "input_end_ms": None,
                    "note": item.get("note", ""),
                    "escalate": bool(item.get("escalate", False)),
                }
            )
    frame = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    for column in ("start_ms", "end_ms", "input_start_ms", "input_end_ms"):
        frame[column] = frame[column].astype("Int64")  # whole ms; empty for added moments
    return frame
