"""What the billable calls of the lab cost, shown before they are made."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

PRICES_FILE = Path(__file__).resolve().parent.parent / "templates" / "prices.json"


@cache
def prices() -> dict[str, Any]:
    """The kit's price list (``templates/prices.json``), with the date it was read."""
    return json.loads(PRICES_FILE.read_text())


def moderation_cost(duration_ms: int) -> float:
    """Rekognition's price to moderate a video of ``duration_ms`` (billed per started minute)."""
    minutes = max(1, math.ceil(duration_ms / 60_000))
    return minutes * prices()["rekognition_video_moderation_per_minute"]["price"]


def review_cost(loops: int, reviewers_per_loop: int = 1) -> float:
    """A2I's price for ``loops`` human loops, each reviewed by ``reviewers_per_loop`` workers."""
    return loops * reviewers_per_loop * prices()["a2i_per_reviewed_object"]["price"]


def dollars(amount: float) -> str:
    """``$0.30`` (never ``0.30000000000000004``); ``<$0.01`` for a fraction of a cent."""
    if 0 < amount < 0.005:
        return "<$0.01"
    return f"${amount:,.2f}"


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows of step, unit, quantity and usd, plus a total row and a formatted ``cost`` column."""
    p = prices()
    total = round(sum(r["usd"] for r in rows), 4)
    rows = [*rows, {"step": "total", "unit": "", "quantity": "", "usd": total}]
    frame = pd.DataFrame(rows).astype({"quantity": object})
    frame["usd"] = frame["usd"].round(4)
    frame["cost"] = [dollars(v) for v in frame["usd"]]
    frame.attrs["read_on"] = p["read_on"]
    frame.attrs["note"] = f"{p['currency']} list prices in {p['region']}, read {p['read_on']}."
    return frame


def _minutes(duration_ms: int) -> int:
    return max(1, math.ceil(duration_ms / 60_000))


def estimate(
    duration_ms: int, loops: int = 1, reviewers_per_loop: int = 1, *, moderated: bool = False
) -> pd.DataFrame:
    """What moderating and reviewing one video costs, in dollars, with a total.

    ``moderated=True`` when Rekognition already billed the video (notebook 2): its row then
    costs nothing here, so the review's estimate does not charge the minutes a second time.
    """
    minutes = _minutes(duration_ms)
    rows = [
        {
            "step": "Rekognition video moderation",
            "unit": "per minute of video" + (", billed in notebook 2" if moderated else ""),
            "quantity": minutes,
            "usd": 0.0 if moderated else round(moderation_cost(duration_ms), 4),
        },
        {
            "step": "A2I human review",
            "unit": "per reviewed object",
            "quantity": loops * reviewers_per_loop,
            "usd": round(review_cost(loops, reviewers_per_loop), 4),
        },
    ]
    return _table(rows)


def batch_estimate(durations_ms: list[int], loops: int, reviewers_per_loop: int = 1):
    """What moderating several videos and reviewing ``loops`` of them costs, with a total."""
    minutes = sum(_minutes(d) for d in durations_ms)
    rows = [
        {
            "step": "Rekognition video moderation",
            "unit": f"per started minute, {len(durations_ms)} videos",
            "quantity": minutes,
            "usd": round(sum(moderation_cost(d) for d in durations_ms), 4),
        },
        {
            "step": "A2I human review",
            "unit": "per reviewed object (at most one loop per video)",
            "quantity": loops * reviewers_per_loop,
            "usd": round(review_cost(loops, reviewers_per_loop), 4),
        },
    ]
    return _table(rows)
