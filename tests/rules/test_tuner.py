"""The rule tuner: the pure function, the widget's logic (no browser), plots and the demo line."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from helpers import plots, pricing, tuner
from helpers.demo import summary
from helpers.errors import InputError
from helpers.rules import RuleSet

SVG = "{http://www.w3.org/2000/svg}"


def drawn(figure, cls):
    """The elements of class ``cls`` in a figure's SVG (which must parse as XML)."""
    root = ET.fromstring(figure._repr_svg_())
    assert root.tag == f"{SVG}svg"
    return [e for e in root.iter() if e.get("class") == cls]


def test_tune_gives_items_funnel_cost_and_figure(sample_labels):
    result = tuner.tune(sample_labels, RuleSet.load("lab-v7"), 1500)
    assert result.summary() == "245 detections → 28 flagged → 5 review items (49× fewer)"
    assert result.funnel["count"].tolist() == [245, 28, 5, 1]
    assert result.funnel["% of detections"].iloc[0] == 100.0
    assert result.duration_ms == 54_000
    cost = result.cost.set_index("step")
    prices = pricing.prices()
    assert cost.at["Rekognition video moderation", "quantity"] == 1  # 54 s: one started minute
    assert cost.at["A2I human review", "usd"] == prices["a2i_per_reviewed_object"]["price"]
    assert cost.at["total", "usd"] == pytest.approx(cost.usd.iloc[:2].sum())
    assert set(result.cost["prices_read_on"]) == {prices["read_on"]}
    table = result.table()
    assert list(table.columns)[:3] == ["id", "label", "category"]
    assert table["from_s"].tolist() == [5.52, 7.88, 11.16, 14.16, 19.04]
    assert len(drawn(result.figure, "item")) == 5


def test_tune_is_pure_and_repeatable(sample_labels):
    before = sample_labels.copy()
    a = tuner.tune(sample_labels, RuleSet.load("broadcast-standard"), 800, plot=False)
    b = tuner.tune(sample_labels, RuleSet.load("broadcast-standard"), 800, plot=False)
    pd.testing.assert_frame_equal(sample_labels, before)
    assert a.figure is None
    assert a.items.drop(columns="rows").equals(b.items.drop(columns="rows"))


def test_tune_with_nothing_flagged_costs_no_review(sample_labels):
    result = tuner.tune(sample_labels, RuleSet("none", {"Hate Symbols": 50}), plot=False)
    assert result.items.empty and result.loops == 0
    assert result.summary().endswith("(nothing to review)")
    assert result.cost.set_index("step").at["A2I human review", "usd"] == 0
    with pytest.raises(InputError, match=r"gap_ms.*at least 0"):
        tuner.tune(sample_labels, RuleSet.load("lab-v7"), -5)


def test_tune_reads_segments(sample_segments):
    result = tuner.tune(sample_segments, RuleSet.load("lab-v7"), 1500, plot=False)
    assert result.detections == 32 and len(result.items) == 4


def test_reduction_line():
    assert tuner.reduction_line(245, 28, 5) == (
        "245 detections → 28 flagged → 5 review items (49× fewer)"
    )
    assert tuner.reduction_line(1_000_000, 30_000, 400_000).endswith("(2.5× fewer)")


def test_demo_summary_prints_the_reduction():
    state = {
        "moderation": {"labels": 245, "pages": 1},
        "rules": {"name": "lab-v7", "detections": 245, "flagged": 28, "items": 5},
        "human_loops": [{"name": "vmk-loop-x", "items": 5}],
    }
    lines = summary(state)
    assert "reduction:           245 detections → 28 flagged → 5 review items (49× fewer)" in lines
    assert "reduction:           ?" in summary({})


# --- the widget, without a browser -------------------------------------------------------------


@pytest.fixture
def widget(sample_labels):
    return tuner.RuleTuner(sample_labels, RuleSet.load("lab-v7"), gap_ms=1500)


def _rows_in_table(widget) -> int:
    return widget.table_html.value.split("<tbody>")[1].count("<tr>")


def test_untouched_widget_shows_the_headless_result(widget, sample_labels):
    headless = tuner.tune(sample_labels, RuleSet.load("lab-v7"), 1500)
    assert widget.rules == RuleSet.load("lab-v7") and widget.rules.name == "lab-v7"
    assert widget.gap_ms == 1500
    assert widget.result.items["id"].tolist() == headless.items["id"].tolist()
    assert _rows_in_table(widget) == 5
    assert "49× fewer" in widget.status.value
    assert bytes(widget.plot.value).startswith(b"<svg") and widget.plot.format == "svg+xml"
    assert f"read {pricing.prices()['read_on']}" in widget.cost_html.value
    assert set(widget.sliders) == {"Alcoholic Beverages", "Drinking", "Exposed Male Nipple"}
    # one order everywhere: the rule table after the tuner lists the rules as the file does
    assert widget.rules.table()["category"].tolist() == list(RuleSet.load("lab-v7").categories)


def test_moving_a_slider_updates_everything_and_the_returned_rules(widget):
    table, image = widget.table_html.value, widget.plot.value
    widget.sliders["Exposed Male Nipple"].value = 100
    assert _rows_in_table(widget) == 3
    assert widget.table_html.value != table and bytes(widget.plot.value) != bytes(image)
    chosen = widget.rules
    assert chosen.name == "lab-v7-tuned" and chosen.categories["Exposed Male Nipple"] == 100
    assert widget.result.funnel["count"].tolist()[2] == 3


def test_gap_control_and_category_picker(widget):
    widget.gap.value = 0
    assert len(widget.result.items) == 28 and widget.gap_ms == 0
    widget.picker.value = (*widget.picker.value, "Weapons")
    assert "Weapons" in widget.sliders and widget.sliders["Weapons"].value == 80
    assert "Weapons" in set(widget.result.items["label"])
    widget.picker.value = ("Weapons",)
    assert set(widget.rules.categories) == {"Weapons"}
    assert [s.description for s in widget.slider_box.children] == ["Weapons"]


def test_a_new_category_starts_at_the_threshold_of_the_rule_covering_it(sample_labels):
    rt = tuner.RuleTuner(sample_labels, RuleSet("t", {"Violence": 65}))
    rt.picker.value = (*rt.picker.value, "Weapons")
    assert rt.sliders["Weapons"].value == 65


def test_an_invalid_choice_is_reported_and_the_last_result_kept(sample_labels):
    rules = RuleSet.load("broadcast-standard")  # excludes Swimwear or Underwear
    rt = tuner.RuleTuner(sample_labels, rules)
    before = rt.result
    rt.picker.value = (*rt.picker.value, "Swimwear or Underwear")
    assert "both a rule and an exclusion" in rt.status.value
    assert rt.result is before


def test_widget_displays_as_a_widget_with_a_readable_fallback(widget):
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("RuleTuner(lab-v7: 3 categories, gap 1500 ms")


# --- plots -------------------------------------------------------------------------------------


def test_timeline_draws_one_box_per_item(sample_labels):
    result = tuner.tune(sample_labels, RuleSet.load("broadcast-standard"), plot=False)
    fig = plots.timeline(sample_labels, flagged=result.flagged, items=result.items)
    boxes = drawn(fig, "item")
    assert len(boxes) == len(result.items) == 13
    assert {b.get("data-id") for b in boxes} == set(result.items["id"])
    lanes = [lane.get("data-category") for lane in drawn(fig, "lane")]
    assert "Alcohol" in lanes and "Swimwear or Underwear" in lanes
    assert "133 flagged" in fig.title
    flagged = [d for d in drawn(fig, "detection") if d.get("data-flagged") == "true"]
    assert flagged and all(d.get("stroke") == plots.ITEM_COLOUR for d in flagged)


def test_plots_handle_segments_empty_and_large_input(sample_labels, sample_segments):
    assert drawn(plots.timeline(sample_segments), "detection")
    empty = plots.timeline(sample_labels.iloc[:0], duration_ms=1000)
    assert drawn(empty, "detection") == [] and "0 detections" in empty.title
    small = plots.timeline(sample_labels)
    big = pd.concat([sample_labels] * 1000, ignore_index=True)  # 245,000 detections
    fig = plots.timeline(big)
    assert "245,000 detections" in fig.title
    # the same pixels in the same colours: as many runs as for the sample, not 1,000 times more
    assert fig.info["runs"] == small.info["runs"] < 600
    assert len(fig.to_svg()) < 200_000


def test_text_in_figures_is_escaped(sample_labels):
    hostile = sample_labels.assign(category="<script>alert(1)</script> & Co")
    fig = plots.category_summary(hostile, title="a < b")
    assert "<script>" not in fig.svg
    assert [b.get("data-category") for b in drawn(fig, "bar")] == ["<script>alert(1)</script> & Co"]


def test_category_summary_counts(sample_labels):
    result = tuner.tune(sample_labels, RuleSet.load("lab-v7"), plot=False)
    fig = plots.category_summary(sample_labels, result.flagged, result.items)
    counts: dict[str, dict[str, int]] = {}
    for bar in drawn(fig, "bar"):
        counts.setdefault(bar.get("data-series"), {})[bar.get("data-category")] = int(
            bar.get("data-count")
        )
    alcohol = int((sample_labels["category"] == "Alcohol").sum())
    assert counts["detections"]["Alcohol"] == alcohol
    assert counts["review items"]["Alcohol"] == 3
    assert sum(counts["flagged"].values()) == 28
    assert fig.info["categories"] == list(counts["detections"])
