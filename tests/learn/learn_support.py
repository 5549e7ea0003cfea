"""Shared by the learning tests: verdicts frames built by hand, simulated reviews, the sample."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import learn, moderation, review, segments
from helpers.offline import recordings, truth
from helpers.rules import RuleSet, apply_rules

ROOT = Path(__file__).resolve().parents[2]


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


def sample_labels(stem: str = "moderation-sample") -> pd.DataFrame:
    doc = json.loads((ROOT / "datasets" / "recordings" / f"{stem}.json").read_text())
    return moderation.labels_frame(recordings.filter_rows(doc["ModerationLabels"], 50.0))


def sample_input(rules: str = "lab-v7", audit_fraction: float = 0.0) -> tuple[dict, pd.DataFrame]:
    labels = sample_labels()
    ruleset = RuleSet.load(rules)
    items = segments.review_items(apply_rules(labels, ruleset), 1500)
    audit = (
        learn.audit_sample(labels, ruleset, audit_fraction, seed=1, flagged_items=items)
        if audit_fraction
        else items.iloc[:0].assign(audit=True)
    )
    both = pd.concat([items, audit[items.columns]], ignore_index=True)
    [doc] = review.plan_loop_inputs(
        both,
        video_s3_uri="s3://bucket/video-moderation-kit/run/videos/moderation-sample.mp4",
        title="moderation-sample.mp4",
        duration_ms=54_000,
        rules_name=ruleset.name,
    )
    [doc] = learn.mark_audit([doc], audit)
    return doc, audit
