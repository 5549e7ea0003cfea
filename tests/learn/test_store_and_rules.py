"""The results store, the sample reviews, suggested rules, the figure and the widget."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from learn_support import sample_labels

from helpers import learn, learn_store, tuner
from helpers.errors import InputError
from helpers.rules import RuleSet
from helpers.session import KitSession


@pytest.fixture(scope="module")
def sample() -> learn_store.Loaded:
    return learn_store.load_sample_reviews()


def test_sample_reviews_hold_two_runs_two_reviewers_and_audit_items(sample):
    v = sample.verdicts
    assert sample.problems.empty
    assert set(v["run"]) == {"sample-run-1", "sample-run-2"}
    assert set(v.groupby(["run", "id"]).size()) == {2}
    assert v["audit"].any() and (v.loc[v["audit"], "weight"] >= 1).all()
    assert (v.loc[~v["audit"], "weight"] == 1).all()
    assert set(learn_store.COLUMNS) <= set(v.columns)


def test_store_round_trip_one_file_per_run(tmp_path, sample):
    for run, group in sample.verdicts.groupby("run"):
        path = learn_store.save_run(group, run, tmp_path)
        assert path == tmp_path / run / "verdicts.parquet"
    back = learn_store.load_results(tmp_path)
    assert back.problems.empty
    cols = ["run", "id", "worker", "verdict", "confidence", "audit", "weight"]
    key = ["run", "id", "worker"]
    text = {"run": object, "id": object, "worker": object, "verdict": object}
    expected = sample.verdicts[cols].sort_values(key, ignore_index=True).astype(text)
    got = back.verdicts[cols].sort_values(key, ignore_index=True).astype(text)
    pd.testing.assert_frame_equal(got, expected)
    assert str(back.verdicts["submitted"].dtype).startswith("datetime64")


def test_store_reads_exported_output_files_and_lists_bad_ones(tmp_path, sample):
    data = json.loads(learn_store.SAMPLE_REVIEWS.read_text())
    folder = tmp_path / "run-exported" / "a2i-output" / "flow" / "loop"
    folder.mkdir(parents=True)
    (folder / "output.json").write_text(json.dumps(data["runs"]["sample-run-1"][0]))
    broken = tmp_path / "run-exported" / "a2i-output" / "flow" / "broken"
    broken.mkdir()
    (broken / "output.json").write_text("{not json")
    loaded = learn_store.load_results(tmp_path)
    assert set(loaded.verdicts["run"]) == {"run-exported"}
    assert len(loaded.verdicts) == (sample.verdicts["run"] == "sample-run-1").sum()
    [problem] = loaded.problems.to_dict("records")
    assert problem["source"].endswith("broken/output.json")
    assert learn_store.load_results(tmp_path / "nothing-here").verdicts.empty


def test_run_ids_are_checked_and_the_prefix_matches_the_session():
    with pytest.raises(InputError, match="cannot name"):
        learn_store.check_run_id("../etc")
    session = KitSession("us-east-1", "123456789012", "bucket", "arn", "r-123", None)
    assert learn_store.run_prefix("r-123") == f"{session.prefix}/"


def test_suggested_thresholds_meet_the_target_on_the_evidence(sample):
    rules = RuleSet.load("lab-v7")
    for recall in (1.0, 0.8):
        table = learn.suggest_thresholds(sample.verdicts, rules, recall=recall)
        met = table.dropna(subset=["recall"])
        assert (met["recall"] >= recall - 1e-9).all()
        assert (table["saved"] == table["items_now"] - table["items_suggested"]).all()
    table = learn.suggest_thresholds(sample.verdicts, rules).set_index("rule")
    # the beach (not a violation) keeps its rule: no confirmed violation is not evidence enough
    assert table.loc["Exposed Male Nipple", "suggested"] == 80
    # the audit found violations in categories without a rule, and suggests rules for them
    assert not math.isnan(table.loc["Drugs & Tobacco", "suggested"])
    with pytest.raises(InputError, match="recall"):
        learn.suggest_thresholds(sample.verdicts, rules, recall=0)


def test_suggested_rule_file_loads_in_the_tuner_with_its_provenance(tmp_path, sample):
    rules = RuleSet.load("lab-v7")
    table = learn.suggest_thresholds(sample.verdicts, rules)
    source = learn.provenance(sample.verdicts)
    assert source["runs"] == ["sample-run-1", "sample-run-2"]
    suggested = learn.suggested_rules(table, rules, source)
    path = learn.write_rules(suggested, tmp_path / "lab-v7-learned.json")
    loaded = RuleSet.load(path)
    assert loaded == suggested and loaded.name == "lab-v7-learned"
    for part in ("sample-run-1", "sample-run-2", source["date"], "56 verdicts", "recall 1"):
        assert part in loaded.description
    # the rule tuner of notebook 4 takes it as it takes a preset
    result = tuner.tune(sample_labels(), RuleSet.load(path), plot=False)
    assert result.rules.name == "lab-v7-learned" and len(result.items) > 0


def test_workload_table_and_widget_agree(sample):
    rules = RuleSet.load("lab-v7")
    table = learn.workload_table(sample.verdicts, rules, targets=(1.0, 0.8))
    assert set(table["target"]) == {1.0, 0.8}
    widget = learn.ThresholdWidget(sample.verdicts, rules, recall=1.0)
    pd.testing.assert_frame_equal(
        widget.table, learn.suggest_thresholds(sample.verdicts, rules, recall=1.0)
    )
    widget.slider.value = 0.8
    pd.testing.assert_frame_equal(
        widget.table, learn.suggest_thresholds(sample.verdicts, rules, recall=0.8)
    )
    assert "review items" in widget.summary.value
    assert "application/vnd.jupyter.widget-view+json" in widget._repr_mimebundle_()


def test_precision_plot_is_svg_with_alt_text(sample):
    figure = learn.precision_plot(learn.precision(sample.verdicts, by_band=True))
    root = ET.fromstring(figure.svg)
    assert root.get("role") == "img" and root.get("aria-label") == figure.info["alt"]
    assert "Alcohol" in figure.info["alt"]
    points = [e for e in root.iter() if e.get("class") == "point"]
    assert {p.get("data-category") for p in points} == set(figure.info["categories"])


def test_audit_sample_is_stratified_seeded_and_shaped_like_review_items():
    labels, rules = sample_labels(), RuleSet.load("lab-v7")
    flagged = tuner.tune(labels, rules, plot=False).items
    first = learn.audit_sample(labels, rules, 0.3, seed=5, flagged_items=flagged)
    again = learn.audit_sample(labels, rules, 0.3, seed=5, flagged_items=flagged)
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns[: len(flagged.columns)]) == list(flagged.columns)
    assert first["audit"].all() and not first["id"].isin(flagged["id"]).any()
    pool = learn.unflagged_items(labels, rules)
    sizes = pool.groupby(["category", "reason"]).size()
    taken = first.groupby(["category", "reason"]).size()
    for key, size in sizes.items():
        assert taken[key] == math.ceil(0.3 * size)  # every stratum is seen
    assert set(pool["reason"]) <= {learn.BELOW_THRESHOLD, learn.NO_RULE}
    cost = learn.audit_cost(flagged, first, duration_ms=54_000, rules_name=rules.name)
    assert list(cost["items"]) == [len(flagged), len(flagged) + len(first)]
    assert cost["reviewer_minutes"].iloc[1] > cost["reviewer_minutes"].iloc[0]
    with pytest.raises(InputError, match="fraction"):
        learn.audit_sample(labels, rules, 0)


def test_an_unreadable_run_file_is_listed_and_the_other_runs_still_load(tmp_path, sample):
    good = sample.verdicts[sample.verdicts["run"] == "sample-run-1"]
    learn_store.save_run(good, "good", tmp_path)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "verdicts.parquet").write_bytes(b"PAR1 not really")
    loaded = learn_store.load_results(tmp_path)
    assert set(loaded.verdicts["run"]) == {"good"}
    assert loaded.problems["source"].str.endswith("bad/verdicts.parquet").all()
    assert len(loaded.problems) == 1


def test_a_threshold_is_raised_only_as_far_as_the_evidence_spares_items(make_frame):
    rules = RuleSet.load("lab-v7")
    rows = [
        ("a", "Alcohol", "Drinking", 95.5, "w", "violation"),
        ("b", "Alcohol", "Drinking", 96.0, "w", "violation"),
        ("c", "Alcohol", "Drinking", 85.2, "w", "not_violation"),
        ("d", "Alcohol", "Alcoholic Beverages", 97.0, "w", "violation"),
    ]
    table = learn.suggest_thresholds(make_frame(rows), rules).set_index("rule")
    assert table.loc["Drinking", "suggested"] == 86  # just above the item it spares
    assert table.loc["Drinking", ["saved", "violations_lost"]].tolist() == [1, 0]
    # nothing below 97 to spare: raising Alcoholic Beverages would only add risk
    assert table.loc["Alcoholic Beverages", "suggested"] == 80
    assert "nothing to save" in table.loc["Alcoholic Beverages", "note"]
