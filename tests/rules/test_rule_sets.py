"""Rule sets as data (files, validation, v6 → v7) and apply_rules as a pure, vectorised filter."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import taxonomy
from helpers.errors import InputError
from helpers.rules import RuleSet, apply_rules, decisions, presets


def _frame(rows, mode="TIMESTAMPS"):
    """Label rows (timestamp or start, end, label, level, confidence) as fetch_labels gives."""
    out = []
    for start, end, label, level, conf in rows:
        out.append(
            {
                "timestamp_ms": start,
                "label": label,
                "parent": taxonomy.parent(label, level),
                "level": level,
                "category": taxonomy.top_level(label, level),
                "confidence": conf,
                "start_ms": start,
                "end_ms": end,
                "duration_ms": end - start,
            }
        )
    frame = pd.DataFrame(out)
    frame.attrs["aggregate_by"] = mode
    return frame


# --- files and validation ----------------------------------------------------------------------


def test_every_preset_loads_and_round_trips(tmp_path):
    assert {"lab-v7", "lab-v6", "broadcast-standard"} <= set(presets())
    for name in presets():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lab-v6 warns, tested below
            rules = RuleSet.load(name)
        again = RuleSet.load(rules.save(tmp_path / f"{name}.json"))
        assert again == rules
        assert json.loads((tmp_path / f"{name}.json").read_text())["name"] == name


def test_lab_v6_barechested_male_maps_to_v7_successor_with_a_warning():
    with pytest.warns(UserWarning, match="'Barechested Male' → 'Exposed Male Nipple'"):
        rules = RuleSet.load("lab-v6")
    assert rules.renamed == {"Barechested Male": "Exposed Male Nipple"}
    assert dict(rules.categories) == dict(RuleSet.load("lab-v7").categories)


def test_two_v6_names_for_one_v7_category_keep_the_lower_threshold():
    with pytest.warns(UserWarning, match="merged 'Drugs & Tobacco'"):
        rules = RuleSet.from_dict({"categories": {"Drugs": 90, "Tobacco": 70}})
    assert rules.categories == {"Drugs & Tobacco": 70.0}


def test_unknown_category_in_a_file_is_rejected_with_valid_names_and_a_hint(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"name": "mine", "categories": {"Drinkin": 80}}))
    with pytest.raises(InputError) as err:
        RuleSet.load(path)
    text = str(err.value)
    assert "mine.json" in text and "'Drinkin'" in text
    assert all(name in text for name in taxonomy.NAMES)  # the list of valid names
    assert "did you mean 'Drinking'?" in text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"categories": {"Drinking": 80}, "exclusion": []}, "Unknown key"),
        ({"categories": ["Drinking"]}, "must map label names"),
        ({"categories": {"Drinking": "high"}}, "must map label names"),
        ({"categories": {"Drinking": True}}, "must map label names"),
        ({"categories": {}, "exclusions": "Weapons"}, "must be a list"),
        ({"categories": {"Weapons": 80}, "exclusions": ["Weapons"]}, "both a rule and"),
        ({"categories": {"Weapons": 101}}, "0 to 100"),
        (["Weapons"], "JSON object"),
    ],
)
def test_bad_rule_data_says_what_to_fix(data, message):
    with pytest.raises(InputError, match=message) as err:
        RuleSet.from_dict(data)
    assert err.value.fix  # every error says what to do


def test_broken_json_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"categories": {"Drinking": 80,}}')
    with pytest.raises(InputError, match=r"broken\.json.*not valid JSON"):
        RuleSet.load(path)


def test_with_categories_names_a_tuned_copy():
    base = RuleSet.load("broadcast-standard")
    same = base.with_categories(dict(reversed(base.categories.items())))
    assert same.name == base.name
    tuned = base.with_categories({"Weapons": 95})
    assert tuned.name == "broadcast-standard-tuned" and tuned.exclusions == base.exclusions
    assert tuned.with_categories({"Weapons": 90}).name == "broadcast-standard-tuned"
    table = tuned.table()
    assert list(table["action"]) == ["flag", "exclude"]


# --- semantics ---------------------------------------------------------------------------------


def test_most_specific_entry_decides_between_rules_and_exclusions():
    rules = RuleSet(
        "t",
        {"Violence": 60, "Female Swimwear or Underwear": 90},
        exclusions=("Weapons", "Swimwear or Underwear"),
    )
    decide = decisions(rules)
    assert decide["Weapon Violence"] == ("Violence", 60)
    assert decide["Weapons"][0] == "Weapons" and np.isnan(decide["Weapons"][1])
    assert decide["Female Swimwear or Underwear"] == ("Female Swimwear or Underwear", 90)
    assert np.isnan(decide["Male Swimwear or Underwear"][1])
    labels = _frame(
        [
            (0, 0, "Female Swimwear or Underwear", 2, 95.0),
            (0, 0, "Male Swimwear or Underwear", 2, 95.0),
            (500, 500, "Weapons", 2, 99.0),
            (900, 900, "Physical Violence", 3, 61.0),
        ]
    )
    assert list(apply_rules(labels, rules)["label"]) == [
        "Female Swimwear or Underwear",
        "Physical Violence",
    ]


def test_an_exclusion_silences_the_parent_rows_it_causes_timestamps():
    rules = RuleSet("t", {"Violence": 60}, exclusions=("Weapons",))
    labels = _frame(
        [
            (0, 0, "Violence", 1, 99.0),  # only because of Weapons: silenced
            (0, 0, "Weapons", 2, 98.0),
            (500, 500, "Violence", 1, 97.0),  # Graphic Violence is here too: kept
            (500, 500, "Weapons", 2, 96.0),
            (500, 500, "Graphic Violence", 2, 55.0),
            (900, 900, "Violence", 1, 90.0),  # alone: kept
        ]
    )
    out = apply_rules(labels, rules)
    assert list(zip(out["timestamp_ms"], out["label"], strict=True)) == [
        (500, "Violence"),
        (900, "Violence"),
    ]


def test_silencing_walks_up_two_levels():
    rules = RuleSet("t", {"Alcohol": 50}, exclusions=("Drinking",))
    labels = _frame(
        [
            (0, 0, "Alcohol", 1, 99.0),
            (0, 0, "Alcohol Use", 2, 98.0),
            (0, 0, "Drinking", 3, 97.0),
            (0, 0, "Alcoholic Beverages", 2, 40.0),  # below threshold, still evidence for Alcohol
        ]
    )
    assert list(apply_rules(labels, rules)["label"]) == ["Alcohol"]
    assert apply_rules(labels.iloc[:3], rules).empty


def test_an_exclusion_silences_parent_segments_it_covers():
    rules = RuleSet("t", {"Violence": 60}, exclusions=("Weapons",))
    labels = _frame(
        [
            (0, 4000, "Violence", 1, 99.0),  # covered by Weapons' segments: silenced
            (0, 2000, "Weapons", 2, 98.0),
            (2000, 4000, "Weapons", 2, 98.0),
            (5000, 9000, "Violence", 1, 99.0),  # reaches beyond Weapons: kept
            (5000, 8000, "Weapons", 2, 98.0),
        ],
        mode="SEGMENTS",
    )
    out = apply_rules(labels, rules)
    assert list(out["start_ms"]) == [5000] and list(out["label"]) == ["Violence"]


def test_apply_rules_is_pure_and_keeps_index_and_attrs(sample_labels):
    before = sample_labels.copy()
    shuffled = sample_labels.sample(frac=1.0, random_state=1)
    out = apply_rules(shuffled, RuleSet.load("lab-v7"))
    pd.testing.assert_frame_equal(sample_labels, before)
    assert out.attrs == sample_labels.attrs
    assert set(out.index) <= set(sample_labels.index)
    assert (out["confidence"] >= out["threshold"]).all()
    assert len(out) == 28


# --- apply_rules against a per-row reference ---------------------------------------------------


ALL_NODES = taxonomy.NODES


def _reference(labels, rules):
    """apply_rules for TIMESTAMPS rows, one row at a time (slow and obvious)."""
    entries = {**rules.categories, **dict.fromkeys(rules.exclusions)}

    def deciding(label, level):
        chain = [label, *taxonomy.ancestors(label, level)]
        for name in chain:  # nearest first = most specific
            if name in entries:
                return name
        return None

    def excluded(label, level):
        d = deciding(label, level)
        return d is not None and d in rules.exclusions

    rows = list(labels.itertuples())
    silenced = set()
    for depth in (2, 1):  # deepest parents first
        for r in rows:
            if r.level != depth or excluded(r.label, r.level):
                continue
            below = [
                o
                for o in rows
                if o.timestamp_ms == r.timestamp_ms
                and r.label in taxonomy.ancestors(o.label, o.level)
                and taxonomy.ancestors(o.label, o.level).index(r.label) + 1 + r.level == o.level
            ]
            if any(excluded(o.label, o.level) for o in below) and not any(
                not excluded(o.label, o.level) and o.Index not in silenced for o in below
            ):
                silenced.add(r.Index)
    keep = []
    for r in rows:
        d = deciding(r.label, r.level)
        flagged = d in rules.categories and r.confidence >= rules.categories[d]
        if flagged and r.Index not in silenced:
            keep.append(r.Index)
    return keep


@st.composite
def labels_and_rules(draw):
    moments = draw(st.lists(st.integers(0, 30), min_size=1, max_size=12, unique=True))
    rows = []
    for t in moments:
        for name, level in draw(st.sets(st.sampled_from(ALL_NODES), min_size=1, max_size=3)):
            chain = [(name, level)]
            for k, anc in enumerate(taxonomy.ancestors(name, level), start=1):
                chain.append((anc, level - k))
            for n, lv in chain:
                rows.append((t * 500, t * 500, n, lv, draw(st.floats(40, 100))))
    labels = _frame(rows).drop_duplicates(["timestamp_ms", "label", "level"])
    names = sorted({n for n, _ in ALL_NODES})
    picked = draw(st.sets(st.sampled_from(names), min_size=1, max_size=5))
    excluded = draw(st.sets(st.sampled_from(sorted(set(names) - picked)), max_size=3))
    cats = {n: draw(st.integers(40, 100)) for n in sorted(picked)}
    return labels, RuleSet("random", cats, exclusions=tuple(sorted(excluded)))


@settings(max_examples=150, deadline=None)
@given(labels_and_rules())
def test_apply_rules_matches_a_per_row_reference(case):
    labels, rules = case
    assert list(apply_rules(labels, rules).index) == _reference(labels, rules)
