"""Review items from flagged detections: properties (hypothesis) and the sample video."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import segments, taxonomy
from helpers.errors import InputError
from helpers.rules import RuleSet, apply_rules

NODES = taxonomy.NODES
# a small family keeps collisions (same label, close times) frequent
FAMILY = [n for n in NODES if taxonomy.top_level(*n) in ("Alcohol", "Violence", "Gambling")]


def _row(t0, t1, name, level, conf):
    return {
        "timestamp_ms": t0,
        "label": name,
        "parent": taxonomy.parent(name, level),
        "level": level,
        "category": taxonomy.top_level(name, level),
        "confidence": conf,
        "start_ms": t0,
        "end_ms": t1,
        "duration_ms": t1 - t0,
    }


def _chain(name, level):
    out = [(name, level)]
    for k, parent in enumerate(taxonomy.ancestors(name, level), start=1):
        out.append((parent, level - k))
    return out


@st.composite
def flagged_timestamps(draw):
    """Flagged rows as Rekognition sends them: a label with its parents at each moment."""
    moments = draw(st.lists(st.integers(0, 80), min_size=1, max_size=25, unique=True))
    rows = []
    for t in moments:
        for name, level in draw(st.sets(st.sampled_from(FAMILY), min_size=1, max_size=3)):
            for n, lv in _chain(name, level):
                rows.append(_row(t * 250, t * 250, n, lv, draw(st.floats(50, 100))))
    frame = pd.DataFrame(rows).drop_duplicates(["timestamp_ms", "label", "level"])
    frame = frame[draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame)))]
    return _scramble(draw, frame, "TIMESTAMPS")


@st.composite
def flagged_segments(draw):
    """Flagged SEGMENTS rows: runs of labels, parents' runs spanning their children's."""
    rows = []
    for _ in range(draw(st.integers(1, 20))):
        name, level = draw(st.sampled_from(FAMILY))
        start = draw(st.integers(0, 200)) * 100
        end = start + draw(st.integers(0, 40)) * 100
        for n, lv in _chain(name, level)[: draw(st.integers(1, 3))]:
            rows.append(_row(start, end, n, lv, draw(st.floats(50, 100))))
    return _scramble(draw, pd.DataFrame(rows), "SEGMENTS")


def _scramble(draw, frame, mode):
    """Shuffle the rows and give them arbitrary index labels, as a filtered frame has."""
    labels = draw(st.permutations(range(len(frame))))
    frame = frame.iloc[labels].copy()
    frame.index = pd.Index([7 * k + 3 for k in labels])
    frame.attrs["aggregate_by"] = mode
    return frame


def _check_items(flagged, items, gap_ms):
    # every flagged detection falls in exactly one item
    covered = np.concatenate([*items["rows"], np.zeros(0, dtype=np.int64)])
    assert sorted(covered.tolist()) == sorted(flagged.index.tolist())
    start, end = segments.spans(flagged)
    spans = pd.DataFrame({"start": start, "end": end}, index=flagged.index)
    for item in items.itertuples():
        rows = flagged.loc[item.rows]
        own = rows[(rows["label"] == item.label) & (rows["level"] == item.level)]
        # first and last time, peak confidence and detections come from the item's own rows
        assert item.detections == len(own) > 0
        assert item.start_ms == spans.loc[own.index, "start"].min()
        assert item.end_ms == spans.loc[own.index, "end"].max()
        assert item.confidence == round(own["confidence"].max(), 2)
        # the other rows are ancestors, folded in where one of the item's rows is there
        for other in rows.drop(own.index).itertuples():
            assert other.label in taxonomy.ancestors(item.label, item.level)
            at = spans.loc[other.Index, "start"]
            assert (
                (spans.loc[own.index, "start"] <= at) & (at <= spans.loc[own.index, "end"])
            ).any()
    # a label's items never overlap, and are more than gap_ms apart
    for _, group in items.groupby(["label", "level"]):
        group = group.sort_values("start_ms")
        assert (group["start_ms"].to_numpy()[1:] - group["end_ms"].to_numpy()[:-1] > gap_ms).all()
    assert items["id"].is_unique


def _same_items(a, b):
    cols = [c for c in segments.ITEM_COLUMNS if c != "rows"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert [sorted(r.tolist()) for r in a["rows"]] == [sorted(r.tolist()) for r in b["rows"]]


@settings(max_examples=120, deadline=None)
@given(flagged_timestamps(), st.integers(0, 2000))
def test_timestamp_items_properties(flagged, gap_ms):
    items = segments.review_items(flagged, gap_ms)
    _check_items(flagged, items, gap_ms)
    # merging twice changes nothing
    _same_items(segments.merge(items, gap_ms), items)
    # the row order does not matter
    _same_items(segments.review_items(flagged.iloc[::-1], gap_ms), items)
    # no ancestor remains at a moment where a flagged descendant is
    kept = segments.drop_covered_ancestors(flagged)
    for _, group in kept.groupby("timestamp_ms"):
        for label, level in zip(group["label"], group["level"], strict=True):
            assert not set(taxonomy.ancestors(label, level)) & set(group["label"]) - {label}


@settings(max_examples=150, deadline=None)
@given(flagged_segments(), st.integers(0, 2000))
def test_segment_items_properties(flagged, gap_ms):
    items = segments.review_items(flagged, gap_ms)
    _check_items(flagged, items, gap_ms)
    _same_items(segments.merge(items, gap_ms), items)
    _same_items(segments.review_items(flagged.iloc[::-1], gap_ms), items)
    # a folded parent segment lies inside the union of its flagged descendants' segments
    start, end = segments.spans(flagged)
    rows = {
        idx: (label, level, s0, e0)
        for idx, label, level, s0, e0 in zip(
            flagged.index, flagged["label"], flagged["level"], start, end, strict=True
        )
    }
    for item in items.itertuples():
        for idx in item.rows.tolist():
            label, level, s0, e0 = rows[idx]
            if (label, level) == (item.label, item.level):
                continue
            below = sorted(
                (s1, e1) for lb, lv, s1, e1 in rows.values() if (label, level) in _chain(lb, lv)[1:]
            )
            reach = s0
            for s1, e1 in below:
                if s1 <= reach:
                    reach = max(reach, e1)
            assert reach >= e0, (label, s0, e0, below)


def _reference_items(flagged, gap_ms):
    """The first cut's algorithm (per-row Python loops) for TIMESTAMPS rows, with one fix: it
    compared names only, so the L2 ``Gambling`` row removed itself and its L1 parent."""
    keep = []
    for _, group in flagged.groupby("timestamp_ms"):
        covered = set()
        for label, level in zip(group["label"], group["level"], strict=True):
            covered.update(_chain(label, int(level))[1:])  # (name, level): Gambling is L1 and L2
        pairs = zip(group["label"], group["level"], strict=True)
        keep.append(group[[(label, int(level)) not in covered for label, level in pairs]])
    out = set()
    if not keep:
        return out
    rows = pd.concat(keep)
    for (label, level), group in rows.groupby(["label", "level"]):
        run = []
        for _, det in group.sort_values("timestamp_ms").iterrows():
            if run and det["timestamp_ms"] - run[-1]["timestamp_ms"] > gap_ms:
                out.add(_summary(label, level, run))
                run = []
            run.append(det)
        out.add(_summary(label, level, run))
    return out


def _summary(label, level, run):
    return (
        label,
        int(level),
        int(run[0]["timestamp_ms"]),
        int(run[-1]["timestamp_ms"]),
        round(max(r["confidence"] for r in run), 2),
        len(run),
    )


@settings(max_examples=100, deadline=None)
@given(flagged_timestamps(), st.integers(0, 2000))
def test_timestamp_items_match_the_per_row_reference(flagged, gap_ms):
    items = segments.review_items(flagged, gap_ms)
    got = {
        (r.label, r.level, r.start_ms, r.end_ms, r.confidence, r.detections)
        for r in items.itertuples()
    }
    assert got == _reference_items(flagged, gap_ms)


# --- the sample video --------------------------------------------------------------------------


def test_sample_video_items(sample_labels):
    flagged = apply_rules(sample_labels, RuleSet.load("lab-v7"))
    items = segments.review_items(flagged, 1500)
    assert len(sample_labels) == 245 and len(flagged) == 28
    assert list(items["label"]) == [
        "Alcoholic Beverages",
        "Drinking",
        "Drinking",
        "Exposed Male Nipple",
        "Exposed Male Nipple",
    ]
    assert items["detections"].sum() == 28  # lab-v7 flags no parent rows
    first = items.iloc[0]
    assert (first.start_ms, first.end_ms, first.confidence) == (5520, 12680, 98.99)
    assert list(sample_labels.loc[first.rows, "label"].unique()) == ["Alcoholic Beverages"]


def test_sample_video_segments_give_the_same_story(sample_labels, sample_segments):
    rules = RuleSet.load("broadcast-standard")
    by_moment = segments.review_items(apply_rules(sample_labels, rules), 1500)
    by_segment = segments.review_items(apply_rules(sample_segments, rules), 1500)
    assert segments.aggregation(sample_segments) == "SEGMENTS"
    assert set(by_segment["label"]) <= set(by_moment["label"]) | {"Graphic Violence"}
    # the alcohol scene: Alcohol and Alcohol Use segments fold into their children's items
    alcohol = by_segment[by_segment["category"] == "Alcohol"]
    assert list(alcohol["label"]) == ["Alcoholic Beverages", "Drinking"]
    assert len(np.concatenate(list(alcohol["rows"]))) == 6


def test_gap_tolerance_merges_more_as_it_grows(sample_labels):
    flagged = apply_rules(sample_labels, RuleSet.load("lab-v7"))
    counts = [len(segments.review_items(flagged, gap)) for gap in (0, 500, 1500, 5000, 60_000)]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == 28 and counts[-1] == 3  # one item per label at the end


def test_ids_are_stable_and_distinct():
    labels = np.array(["Drinking"] * 3 + ["Weapons"], dtype=object)
    ids = segments.item_ids(labels, np.array([3, 3, 3, 2]), np.array([0, 1, 2, 0]))
    assert len(set(ids)) == 4
    assert all(i.startswith("i-") and len(i) == 18 for i in ids)
    again = segments.item_ids(labels[::-1], np.array([2, 3, 3, 3]), np.array([0, 2, 1, 0]))
    assert list(again[::-1]) == list(ids)


def test_empty_and_bad_input():
    empty = segments.review_items(pd.DataFrame(columns=["timestamp_ms", "label", "confidence"]))
    assert empty.empty and list(empty.columns) == segments.ITEM_COLUMNS
    with pytest.raises(InputError, match="gap_ms"):
        segments.review_items(empty, -1)
    with pytest.raises(InputError, match="without quotes"):
        segments.review_items(empty, "1500")


def test_unknown_labels_are_merged_but_never_folded():
    frame = pd.DataFrame(
        [_row(0, 0, "Alcohol", 1, 90.0), _row(0, 0, "Drinking", 3, 90.0)]
        + [
            {**_row(t, t, "Alcohol", 1, 80.0), "label": "Future Label", "level": 3}
            for t in (0, 500)
        ]
    )
    items = segments.review_items(frame, 1000)
    assert sorted(items["label"]) == ["Drinking", "Future Label"]
    assert items.set_index("label").at["Drinking", "rows"].tolist() == [0, 1]
