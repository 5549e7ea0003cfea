"""Taxonomy v7 lookups and rule filtering."""

import warnings

import pandas as pd
import pytest

from helpers import taxonomy
from helpers.errors import InputError
from helpers.rules import RuleSet, apply_rules


def test_taxonomy_shape():
    assert taxonomy.level("Drinking") == 3
    assert taxonomy.ancestors("Drinking") == ("Alcohol Use", "Alcohol")
    assert (
        taxonomy.top_level("Exposed Male Nipple")
        == "Non-Explicit Nudity of Intimate parts and Kissing"
    )
    assert taxonomy.parent("Alcohol") == ""
    assert set(taxonomy.descendants("Alcohol")) == {
        "Alcohol Use",
        "Drinking",
        "Alcoholic Beverages",
    }
    assert taxonomy.descendants("Drinking") == ()
    # "Gambling" is both L1 and L2: the L2 label sits under the L1 one
    assert taxonomy.ancestors("Gambling", 2) == ("Gambling",)
    assert len(taxonomy.TOP_LEVEL) == 10
    assert not taxonomy.is_known("Barechested Male")


def _labels(rows):
    df = pd.DataFrame(rows, columns=["timestamp_ms", "label", "parent", "level", "confidence"])
    df["category"] = [taxonomy.top_level(n, lvl) for n, lvl in zip(df.label, df.level, strict=True)]
    return df


LABELS = _labels(
    [
        (500, "Drinking", "Alcohol Use", 3, 91.0),
        (500, "Alcohol Use", "Alcohol", 2, 92.0),
        (500, "Alcohol", "", 1, 93.0),
        (900, "Alcoholic Beverages", "Alcohol", 2, 70.0),
        (1400, "Exposed Male Nipple", "Non-Explicit Nudity", 3, 85.0),
        (1400, "Male Swimwear or Underwear", "Swimwear or Underwear", 2, 97.0),
        (2000, "Weapons", "Violence", 2, 99.0),
    ]
)


def test_rule_matches_label_and_descendants_with_most_specific_threshold():
    rules = RuleSet("t", {"Alcohol": 90, "Alcoholic Beverages": 60})
    out = apply_rules(LABELS, rules)
    assert list(out["label"]) == ["Drinking", "Alcohol Use", "Alcohol", "Alcoholic Beverages"]
    assert list(out["rule"]) == ["Alcohol", "Alcohol", "Alcohol", "Alcoholic Beverages"]
    assert list(out["threshold"]) == [90, 90, 90, 60]


def test_threshold_and_exclusions():
    rules = RuleSet("t", {"Alcohol": 92}, exclusions=("Alcohol Use",))
    # Drinking sits under Alcohol Use (excluded). Alcohol at 500 (93 ≥ 92) is only there because
    # of the excluded Alcohol Use row at the same moment, so it is silenced too.
    assert apply_rules(LABELS, rules).empty
    # ... but at a moment where another child of Alcohol fires, Alcohol is flagged
    beer = _labels([(900, "Alcohol", "", 1, 95.0), (900, "Alcoholic Beverages", "Alcohol", 2, 70)])
    both = pd.concat([LABELS, beer], ignore_index=True)
    out = apply_rules(both, rules)
    assert list(out["timestamp_ms"]) == [900] and list(out["label"]) == ["Alcohol"]


def test_lab_rules_in_v7_and_v6_name_map():
    v7 = RuleSet.load("lab-v7")
    with pytest.warns(UserWarning, match="Barechested Male"):
        v6 = RuleSet.load("lab-v6")
    assert dict(v6.categories) == dict(v7.categories)
    assert v6.renamed == {"Barechested Male": "Exposed Male Nipple"}
    out = apply_rules(LABELS, v7)
    assert set(out["label"]) == {"Drinking", "Exposed Male Nipple"}


def test_unknown_category_rejected_with_valid_names():
    with pytest.raises(InputError) as err:
        RuleSet.from_dict({"categories": {"Nudity Extreme": 50}})
    assert "Nudity Extreme" in str(err.value)
    assert "Exposed Male Nipple" in str(err.value)  # lists the valid names


def test_confidence_range_checked():
    with pytest.raises(InputError, match="0 to 100"):
        RuleSet("t", {"Alcohol": 150})


def test_presets_load_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("lab-v7", "broadcast-standard"):
            assert RuleSet.load(name).categories


def test_missing_preset_names_the_presets():
    with pytest.raises(InputError, match="lab-v7"):
        RuleSet.load("no-such-preset")
