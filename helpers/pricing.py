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


def estimate(duration_ms: int, loops: int = 1, reviewers_per_loop: int = 1) -> pd.DataFrame:
    """A small table: what moderating and reviewing one video costs, and when prices were read."""
    p = prices()
    rows = [
        {
            "step": "Rekognition video moderation",
            "unit": "per minute of video",
            "quantity": max(1, math.ceil(duration_ms / 60_000)),
            "usd": round(moderation_cost(duration_ms), 4),
        },
        {
            "step": "A2I human review",
            "unit": "per reviewed object",
            "quantity": loops * reviewers_per_loop,
            "usd": round(review_cost(loops, reviewers_per_loop), 4),
        },
    ]
    frame = pd.DataFrame(rows)
    frame.attrs["read_on"] = p["read_on"]
    frame.attrs["note"] = f"{p['currency']} list prices in {p['region']}, read {p['read_on']}."
    return frame
