"""The estimates recover a configured truth: seeded runs of the ground-truth reviewer's model.

Each test simulates many seeded reviews in-process (no stand-in, a few seconds) and checks how
often the interval :mod:`helpers.learn` reports holds the truth the simulation was built from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from learn_support import simulate

from helpers import learn
from helpers.offline import truth

#: category -> (true precision, flagged items per run)
PRECISION = {
    "Alcohol": (0.9, 40),
    "Violence": (0.6, 25),
    "Gambling": (0.3, 15),
    "Hate Symbols": (0.75, 60),
}
RUNS = 200


def _flagged(run: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(run)
    categories = np.concatenate([[c] * n for c, (_, n) in PRECISION.items()])
    truths = np.concatenate([rng.random(n) < p for p, n in PRECISION.values()])
    confidences = rng.uniform(80, 100, len(truths)).round(2)
    return truths, categories, confidences


@pytest.mark.parametrize("accuracy", [1.0, 0.95, 0.8])
def test_precision_interval_holds_the_truth_in_95_percent_of_seeded_runs(accuracy):
    hits = checks = 0
    for run in range(RUNS):
        truths, categories, confidences = _flagged(run)
        verdicts = simulate(
            truths, categories, confidences, accuracies=[accuracy], seed=f"precision-{run}"
        )
        table = learn.precision(verdicts, reviewer_accuracy=accuracy).set_index("category")
        for category, (p, _) in PRECISION.items():
            checks += 1
            hits += table.loc[category, "low"] <= p <= table.loc[category, "high"]
    coverage = hits / checks
    print(f"precision coverage at reviewer accuracy {accuracy}: {coverage:.3f} of {checks}")
    assert coverage >= 0.95


#: category -> (chance an unflagged item is a violation, unflagged items)
MISSED = {"Violence": (0.05, 200), "Drugs & Tobacco": (0.2, 150), "Gambling": (0.4, 80)}


def test_audit_estimate_of_missed_violations_holds_the_truth_in_95_percent_of_runs():
    hits = checks = count_hits = 0
    for run in range(RUNS):
        rng = np.random.default_rng(10_000 + run)
        pool = pd.DataFrame(
            {
                "id": [f"i{k:05d}" for k in range(sum(n for _, n in MISSED.values()))],
                "category": np.concatenate([[c] * n for c, (_, n) in MISSED.items()]),
                "reason": "below threshold",
                "truth": np.concatenate([rng.random(n) < r for r, n in MISSED.values()]),
                "confidence": rng.uniform(50, 80, sum(n for _, n in MISSED.values())).round(2),
            }
        )
        sample = learn.stratified_sample(pool, 0.2, seed=run)
        verdicts = simulate(
            sample["truth"].to_numpy(),
            sample["category"].to_numpy(),
            sample["confidence"].to_numpy(),
            accuracies=[0.95],
            seed=f"audit-{run}",
            audit=np.ones(len(sample), dtype=bool),
            weights=sample["weight"].to_numpy(),
        )
        # ids of the simulation are positions in the sample: keep the pool's truth beside them
        table = learn.missed_violations(verdicts, reviewer_accuracy=0.95).set_index("category")
        for category in MISSED:
            in_pool = pool[pool["category"] == category]
            rate, missed = in_pool["truth"].mean(), in_pool["truth"].sum()
            row = table.loc[category]
            checks += 1
            hits += row["low"] <= rate <= row["high"]
            count_hits += row["missed_low"] - 0.05 <= missed <= row["missed_high"] + 0.05
            assert row["unflagged"] == pytest.approx(len(in_pool))
    print(f"audit coverage: rate {hits / checks:.3f}, count {count_hits / checks:.3f} of {checks}")
    assert hits / checks >= 0.95
    assert count_hits / checks >= 0.95


def test_kappa_of_two_simulated_reviewers_matches_its_closed_form():
    first, second, prevalence = 0.95, 0.8, 0.6
    expected = truth.kappa_closed_form(first, second, prevalence)
    values = []
    for run in range(10):
        rng = np.random.default_rng(20_000 + run)
        truths = rng.random(2000) < prevalence
        verdicts = simulate(
            truths,
            np.array(["Alcohol"] * len(truths)),
            np.full(len(truths), 90.0),
            accuracies=[first, second],
            seed=f"kappa-{run}",
        )
        [value] = learn.kappa(verdicts)["kappa"]
        values.append(value)
    print(f"kappa: mean {np.mean(values):.4f}, closed form {expected:.4f}")
    # each run's kappa has a standard error of about 0.02; the mean of ten about 0.007
    assert np.mean(values) == pytest.approx(expected, abs=0.02)
    assert all(abs(v - expected) < 0.08 for v in values)


def test_closed_form_kappa_limits():
    assert truth.kappa_closed_form(1.0, 1.0, 0.3) == pytest.approx(1.0)
    assert truth.kappa_closed_form(0.5, 0.9, 0.3) == pytest.approx(0.0)
