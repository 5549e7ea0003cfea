"""Helpers for the learning tests: verdicts frames built by hand and simulated reviews."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from helpers.offline import truth


def frame(rows: Sequence[tuple]) -> pd.DataFrame:
    """A verdicts frame from (id, category, label, confidence, worker, verdict[, corrected])."""
    records = []
    for row in rows:
        item, category, label, confidence, worker, verdict, *rest = row
        records.append(
            {
                "id": item,
                "category": category,
                "label": label,
                "confidence": confidence,
                "worker": worker,
                "verdict": verdict,
                "corrected_category": rest[0] if rest else "",
            }
        )
    return pd.DataFrame(records)


def simulate(
    truths: np.ndarray,
    categories: np.ndarray,
    confidences: np.ndarray,
    *,
    accuracies: Sequence[float],
    seed: str,
    audit: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """Verdicts of simulated reviewers (the ground-truth reviewer's error model) on items whose
    true verdicts are ``truths`` (True: violation)."""
    rows = []
    for worker, accuracy in enumerate(accuracies):
        for index, (is_violation, category, confidence) in enumerate(
            zip(truths, categories, confidences, strict=True)
        ):
            item = f"i{index:05d}"
            wrong = truth.errs(seed, worker, item, accuracy)
            actual = ("violation" if is_violation else "not_violation", "")
            verdict, _ = truth.reviewer_verdict(actual, wrong)
            rows.append(
                {
                    "id": item,
                    "category": category,
                    "label": category,
                    "confidence": confidence,
                    "worker": f"w{worker}",
                    "verdict": verdict,
                    "audit": bool(audit[index]) if audit is not None else False,
                    "weight": float(weights[index]) if weights is not None else 1.0,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def make_frame():
    return frame
