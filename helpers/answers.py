"""The contract between the kit, the reviewer's page and A2I's output.

Two documents cross the wire:

* the human loop **input** (StartHumanLoop ``InputContent``), built by :mod:`helpers.review`::

    {"schema": "vmk-input/1",
     "video": {"title": str, "s3_uri": "s3://bucket/key", "duration_ms": int},
     "items": [{"id": "i0001", "label": str, "parent": str, "category": str,
                "start_ms": int, "end_ms": int, "confidence": float, "detections": int}],
     "rules": str}

* the reviewer's **answer**. The page submits one hidden field, ``review``, holding a JSON
  string, so A2I's ``humanAnswers[i].answerContent`` is ``{"review": "<json>"}`` where the
  JSON is::

    {"schema": "vmk-review/1",
     "items": [{"id": "i0001", "verdict": "violation" | "not_violation" | "wrong_category"
                | "unsure", "category": str | null, "note": str}],
     "notes": str}

  ``category`` is the reviewer's corrected v7 label when the verdict is ``wrong_category``.
  Items are keyed by ``id``, never by timestamp and name.
"""

from __future__ import annotations

INPUT_SCHEMA = "vmk-input/1"
ANSWER_SCHEMA = "vmk-review/1"
#: The name of the page's hidden input that carries the answer JSON.
ANSWER_FIELD = "review"
VERDICTS = ("violation", "not_violation", "wrong_category", "unsure")
