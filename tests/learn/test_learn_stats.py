"""helpers.learn: intervals, consensus, precision, corrections and agreement on small frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import learn
from helpers.errors import InputError


def test_wilson_matches_known_values():
    # plain Wilson, 95 %: 5 of 10 -> (0.2366, 0.7634); 0 of 10 -> (0, 0.2775)
    low, high = learn.wilson(5, 10, continuity=False)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    assert learn.wilson(0, 10, continuity=False)[0] == pytest.approx(0, abs=1e-12)
    assert round(learn.wilson(0, 10, continuity=False)[1], 4) == 0.2775
    # with continuity correction (Newcombe 1998, method 4): wider, and closed at 0 and 1
    cc = learn.wilson(5, 10)
    assert cc[0] < low and cc[1] > high
    assert learn.wilson(0, 10)[0] == 0 and learn.wilson(10, 10)[1] == 1
    assert all(math.isnan(v) for v in learn.wilson(0, 0))


def test_corrected_inverts_symmetric_reviewer_error():
    p, a = 0.7, 0.9
    observed = p * a + (1 - p) * (1 - a)
    assert learn.corrected(observed, a) == pytest.approx(p)
    assert learn.corrected(0.01, 0.9) == 0.0  # clipped
    assert learn.corrected(0.5, None) == 0.5
    with pytest.raises(InputError, match="accuracy"):
        learn.corrected(0.5, 0.4)


def test_missing_columns_are_named(make_frame):
    with pytest.raises(InputError, match="confidence"):
        learn.precision(
            make_frame([("a", "Alcohol", "Drinking", 90, "w", "violation")]).drop(
                columns="confidence"
            )
        )


def test_consensus_majority_ties_escalate_and_extra_columns_are_kept_out(make_frame):
    v = make_frame(
        [
            ("a", "Alcohol", "Drinking", 91, "w1", "violation"),
            ("a", "Alcohol", "Drinking", 91, "w2", "violation"),
            ("a", "Alcohol", "Drinking", 91, "w3", "not_violation"),
            ("b", "Alcohol", "Drinking", 85, "w1", "violation"),
            ("b", "Alcohol", "Drinking", 85, "w2", "not_violation"),
            ("c", "Violence", "Weapons", 70, "w1", "wrong_category", "Explosions and Blasts"),
            ("c", "Violence", "Weapons", 70, "w2", "wrong_category", "Explosions and Blasts"),
            ("d", "Violence", "Weapons", 60, "", None),  # nobody answered
        ]
    ).assign(extra="tolerated")
    items = learn.consensus(v).set_index("id")
    assert items.loc["a", "verdict"] == "violation"
    assert items.loc["a", "agreement"] == pytest.approx(2 / 3)
    assert items.loc["b", "verdict"] == learn.ESCALATE
    assert items.loc["c", "corrected_category"] == "Explosions and Blasts"
    assert "d" not in items.index
    table = learn.disagreements(v)
    assert list(table["id"]) == ["b", "a"]  # the tie first
    assert list(table["tie"]) == [True, False]


def test_precision_counts_one_verdict_per_item_and_leaves_out_audit_ties_and_unsure(make_frame):
    v = make_frame(
        [
            ("a", "Alcohol", "Drinking", 95, "w", "violation"),
            ("b", "Alcohol", "Drinking", 82, "w", "not_violation"),
            ("c", "Alcohol", "Drinking", 85, "w", "violation"),
            ("d", "Alcohol", "Drinking", 88, "w", "unsure"),
            ("e", "Violence", "Weapons", 75, "w", "wrong_category", "Weapon Violence"),
            ("f", "Alcohol", "Drinking", 60, "w", "violation"),
        ]
    )
    v["audit"] = v["id"] == "f"
    table = learn.precision(v).set_index("category")
    assert table.loc["Alcohol", ["items", "confirmed"]].tolist() == [3, 2]
    assert table.loc["Alcohol", "precision"] == pytest.approx(2 / 3)
    assert table.loc["Violence", "confirmed"] == 0  # a wrong label is not a confirmed one
    assert (table["low"] <= table["precision"]).all()
    assert (table["precision"] <= table["high"]).all()
    banded = learn.precision(v, by_band=True)
    seen = zip(banded["category"], banded["band"].astype(str), banded["items"], strict=True)
    assert set(seen) == {
        ("Alcohol", "80-90", 2),
        ("Alcohol", "90-100", 1),
        ("Violence", "70-80", 1),
    }
    # taxonomy order: Violence comes before Alcohol
    assert list(table.index) == ["Violence", "Alcohol"]


def test_band_edges_are_left_closed_and_the_top_is_included():
    bands = learn.band_of(pd.Series([50.0, 59.99, 60.0, 99.5, 100.0]))
    assert bands.astype(str).tolist() == ["50-60", "50-60", "60-70", "90-100", "90-100"]


def test_corrections_is_a_confusion_table(make_frame):
    v = make_frame(
        [
            ("a", "Alcohol", "Drinking", 95, "w", "violation"),
            ("b", "Alcohol", "Drinking", 82, "w", "not_violation"),
            ("c", "Violence", "Weapons", 75, "w", "wrong_category", "Weapon Violence"),
        ]
    )
    table = learn.corrections(v)
    assert table.loc["Drinking", "Drinking"] == 1
    assert table.loc["Drinking", "(not a violation)"] == 1
    assert table.loc["Weapons", "Weapon Violence"] == 1
    assert table.to_numpy().sum() == 3


def test_cohen_kappa_known_example():
    # 50 items: both yes 20, both no 15, first yes only 5, second yes only 10
    first = ["y"] * 20 + ["n"] * 15 + ["y"] * 5 + ["n"] * 10
    second = ["y"] * 20 + ["n"] * 15 + ["n"] * 5 + ["y"] * 10
    # p_o = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.4
    assert learn.cohen_kappa(first, second) == pytest.approx(0.4)


def test_fleiss_kappa_known_example():
    # Fleiss (1971)-style check computed by hand: 4 items, 3 raters, 2 verdicts
    counts = np.array([[3, 0], [0, 3], [2, 1], [1, 2]])
    # P_i = 1, 1, 1/3, 1/3 -> mean 2/3; shares 0.5, 0.5 -> p_e 0.5; kappa = 1/3
    assert learn.fleiss_kappa(counts) == pytest.approx(1 / 3)
    with pytest.raises(InputError, match="same number"):
        learn.fleiss_kappa(np.array([[2, 0], [1, 2]]))


def test_kappa_per_category_uses_cohen_for_two_and_fleiss_for_three(make_frame):
    two = make_frame(
        [
            (f"i{k}", "Alcohol", "Drinking", 90, w, v)
            for k, (a, b) in enumerate(
                [("violation", "violation")] * 3
                + [("not_violation", "violation")]
                + [("not_violation", "not_violation")] * 2
            )
            for w, v in (("w1", a), ("w2", b))
        ]
    )
    table = learn.kappa(two)
    assert table.loc[0, "method"] == "Cohen" and table.loc[0, "items"] == 6
    first = two[two.worker == "w1"].sort_values("id")["verdict"] == "violation"
    second = two[two.worker == "w2"].sort_values("id")["verdict"] == "violation"
    assert table.loc[0, "kappa"] == pytest.approx(learn.cohen_kappa(first, second))
    three = pd.concat([two, two[two.worker == "w1"].assign(worker="w3")])
    assert learn.kappa(three).loc[0, "method"] == "Fleiss"


def test_no_verdicts_yet_gives_empty_tables_not_errors():
    from helpers import learn_store
    from helpers.rules import RuleSet

    empty = learn_store.load_results("/nonexistent/results").verdicts
    rules = RuleSet.load("lab-v7")
    for table in (
        learn.precision(empty),
        learn.precision(empty, by_band=True),
        learn.corrections(empty),
        learn.kappa(empty),
        learn.disagreements(empty),
        learn.missed_violations(empty),
        learn.suggest_thresholds(empty, rules),
        learn.workload_table(empty, rules),
    ):
        assert table.empty
    assert learn.precision_plot(learn.precision(empty, by_band=True)).info["categories"] == []
    suggested = learn.suggested_rules(
        learn.suggest_thresholds(empty, rules), rules, learn.provenance(empty)
    )
    assert suggested.categories == rules.categories
