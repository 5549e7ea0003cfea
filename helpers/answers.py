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

    {"schema": "vmk-review/1",
     "items": [{"id": "i0001", "verdict": "violation" | "not_violation" | "wrong_category"
                | "unsure", "category": str | null, "note": str,
                "escalate": bool, "bulk": bool}],
     "notes": str}

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
ANSWER_SCHEMA = "vmk-review/1"
#: The name of the page's hidden input that carries the answer JSON.
ANSWER_FIELD = "review"
VERDICTS = ("violation", "not_violation", "wrong_category", "unsure")
#: The fields of an answer item, in the order the page and the auto reviewer write them.
ITEM_FIELDS = ("id", "verdict", "category", "note", "escalate", "bulk")

_REVIEWER = Path(__file__).resolve().parent.parent / "templates" / "reviewer"
#: The written schema (people) and the JSON Schema (tools) of the answer.
SCHEMA_DOC = _REVIEWER / "ANSWER_SCHEMA.md"
JSON_SCHEMA = _REVIEWER / "answer.schema.json"


class AnswerError(ValueError):
    """An answer that does not follow ``vmk-review/1``; the message says where and why."""


def answer_item(
    item_id: str,
    verdict: str,
    *,
    category: str | None = None,
    note: str = "",
    escalate: bool = False,
    bulk: bool = False,
) -> dict[str, Any]:
    """One item of an answer, with every field, as the reviewer's page writes it."""
    return {
        "id": item_id,
        "verdict": verdict,
        "category": category if verdict == "wrong_category" else None,
        "note": note,
        "escalate": bool(escalate),
        "bulk": bool(bulk),
    }


def review_document(items: Iterable[Mapping[str, Any]], notes: str = "") -> dict[str, Any]:
    """A ``vmk-review/1`` document (checked) from answer items."""
    doc = {"schema": ANSWER_SCHEMA, "items": [dict(item) for item in items], "notes": notes}
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


def validate_review(
    doc: Any, input_items: Iterable[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Check a ``vmk-review/1`` document; return it. Raises :class:`AnswerError`.

    With ``input_items`` (the loop input's ``items``), the answer must give exactly one verdict
    to every input item and name no other.
    """
    if not isinstance(doc, dict):
        raise AnswerError(f"the answer is {type(doc).__name__}, not a JSON object")
    if doc.get("schema") != ANSWER_SCHEMA:
        raise AnswerError(f"schema is {doc.get('schema')!r}, expected {ANSWER_SCHEMA!r}")
    items = doc.get("items")
    if not isinstance(items, list):
        raise AnswerError("`items` is missing or not a list")
    if not isinstance(doc.get("notes", ""), str):
        raise AnswerError("`notes` is not a string")
    seen: set[str] = set()
    for index, item in enumerate(items):
        _check_item(index, item)
        if item["id"] in seen:
            raise AnswerError(f"{_where(index, item)} repeats an id already answered")
        seen.add(item["id"])
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
    """The checked ``vmk-review/1`` document inside an ``answerContent``.

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
