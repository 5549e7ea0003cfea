"""The offline auto reviewer: answers a human loop the way a reviewer's page would.

The answer follows the contract in :mod:`helpers.answers` (written down in
``templates/reviewer/ANSWER_SCHEMA.md``): ``answerContent`` is ``{"review": "<json>"}`` and the
JSON is a ``vmk-review/1`` document with one entry per item of the input's ``items`` list, with
the same fields the reviewer's page writes. Policies are described in
:class:`~helpers.offline.settings.AutoReviewPolicy`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from helpers import answers, taxonomy
from helpers.offline.settings import AutoReviewPolicy


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def corrected_category(item: dict[str, Any]) -> str:
    """A different v7 label for an item the mixed policy calls ``wrong_category``.

    A sibling of the item's label when it has one, else another label of the same top-level
    category, else another top-level category; chosen by the item id's hash, so the same item
    always gets the same correction.
    """
    label = str(item.get("label") or item.get("category") or "")
    seed = _hash(str(item.get("id", "")))
    candidates: list[str] = []
    if taxonomy.is_known(label):
        parent = taxonomy.parent(label)
        candidates = [n for n in taxonomy.NAMES if n != label and parent and parent in _parents(n)]
        if not candidates:
            top = taxonomy.top_level(label)
            family = {label, *taxonomy.ancestors(label)}
            candidates = [n for n in taxonomy.descendants(top) if n not in family]
    if not candidates:
        own_top = taxonomy.top_level(label) if taxonomy.is_known(label) else ""
        candidates = [name for name in taxonomy.TOP_LEVEL if name != own_top]
    return candidates[seed % len(candidates)]


def _parents(name: str) -> set[str]:
    out = set()
    for lvl in (1, 2, 3):
        try:
            out.add(taxonomy.parent(name, lvl))
        except KeyError:
            continue
    return out


def review_items(items: list[dict[str, Any]], policy: AutoReviewPolicy) -> list[dict[str, Any]]:
    """The ``items`` of a ``vmk-review/1`` answer for the input items under ``policy``.

    ``mixed`` ranks the items by a hash of their id (so the verdicts do not depend on the
    order of the items): with two items or more the first gets ``wrong_category``, every
    fourth from the third on gets ``not_violation``, the rest ``violation``.
    """
    ids = [str(item.get("id", index)) for index, item in enumerate(items)]
    rank = {item_id: position for position, item_id in enumerate(sorted(ids, key=_hash))}
    out: list[dict[str, Any]] = []
    for item_id, item in zip(ids, items, strict=True):
        verdict, category, note = "violation", None, "auto reviewer: confirmed"
        if policy is AutoReviewPolicy.REJECT:
            verdict, note = "not_violation", "auto reviewer: not a violation"
        elif policy is AutoReviewPolicy.MIXED:
            if rank[item_id] == 0 and len(items) >= 2:
                category = corrected_category(item)
                verdict, note = "wrong_category", f"auto reviewer: this is {category}"
            elif rank[item_id] % 4 == 2:
                verdict, note = "not_violation", "auto reviewer: not a violation"
        out.append(answers.answer_item(item_id, verdict, category=category, note=note))
    return out


def answer_content(
    input_object: Any, policy: AutoReviewPolicy, *, worker: int = 0, seed: str = ""
) -> dict[str, str]:
    """``humanAnswers[i].answerContent`` for a loop whose parsed input is ``input_object``.

    An input without an ``items`` list gets an answer with no items (and says so in ``notes``).
    The ``truth`` policy answers as reviewer ``worker`` with the loop's ``seed``
    (:mod:`helpers.offline.truth`).
    """
    if policy is AutoReviewPolicy.TRUTH:
        from helpers.offline import settings, truth

        accuracies = settings.current_settings().reviewer_accuracy
        return truth.answer_content(input_object, worker=worker, accuracies=accuracies, seed=seed)
    items = input_object.get("items") if isinstance(input_object, dict) else None
    notes = f"answered by the offline auto reviewer (policy {policy.value})"
    if not isinstance(items, list):
        items = []
        notes += f"; the input has no `items` list (expected schema {answers.INPUT_SCHEMA})"
    review = {
        "schema": answers.ANSWER_SCHEMA,
        "items": review_items([i for i in items if isinstance(i, dict)], policy),
        "notes": notes,
    }
    return answers.answer_content(review)
