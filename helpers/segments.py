"""From flagged detections to review items: de-duplicate parents, merge runs into segments.

Rekognition reports a label once per sampled moment (``AggregateBy=TIMESTAMPS``) or once per
continuous run (``AggregateBy=SEGMENTS``), and reports a label's parent categories as rows of
their own at the same moment. A reviewer should see one item per run of the most specific label.
This module turns the flagged rows (from :func:`helpers.rules.apply_rules`) into such items:

1. **Spans.** A TIMESTAMPS row is the instant ``[timestamp_ms, timestamp_ms]``; a SEGMENTS row
   is ``[start_ms, end_ms]``. The mode comes from ``frame.attrs["aggregate_by"]`` (set by
   :func:`helpers.moderation.fetch_labels`), else from the data.
2. **De-duplication.** A flagged row whose span is covered by flagged rows of its descendants
   (``Alcohol`` at 5.52 s when ``Drinking`` is flagged at 5.52 s) is folded into an item of
   that descendant. In TIMESTAMPS mode, "covered" means "at the same moment";
   in SEGMENTS mode, the ancestor's segment must lie inside the union of its descendants'
   segments (a parent segment that reaches beyond them stays an item of its own). A folded
   row lands in the item of a descendant that is there at its start.
3. **Merging.** Spans of one label (and level) merge into one item while the next one starts
   no more than ``gap_ms`` after the furthest end so far. SEGMENTS rows are Rekognition's own
   runs; with ``gap_ms=0`` they are used as they are (only overlapping ones join).

Each item keeps its first and last time, its peak confidence, the number of its label's
detections, ``peak_ms`` (the time of its most confident detection, the earliest on a tie; a
detection's time is the middle of its span), ``detections_ms`` (the sorted times of its own
label's detections; the reviewer's page draws them), and ``rows``: the index labels (in the
flagged frame, which keeps the labels frame's index) of every flagged row it covers, its own
and the folded ancestors'. Every flagged row lands in exactly one item. Item ids are stable: a
hash of label, level and start.

Everything is vectorised with numpy; the only Python loops run over taxonomy nodes (a few
dozen), never over rows.
"""

from __future__ import annotations

import hashlib
import itertools
from functools import cache

import numpy as np
import pandas as pd

from helpers import checks, taxonomy

TIMESTAMPS = "TIMESTAMPS"
SEGMENTS = "SEGMENTS"

#: Columns of a review items frame, in order.
ITEM_COLUMNS = [
    "id",
    "label",
    "parent",
    "level",
    "category",
    "rule",
    "start_ms",
    "end_ms",
    "confidence",
    "detections",
    "rows",
    "peak_ms",
    "detections_ms",
]


# --- taxonomy nodes as integer codes -----------------------------------------------------------


@cache
def _nodes() -> tuple[dict[tuple[str, int], int], np.ndarray, np.ndarray]:
    """Every (name, level) node of the taxonomy with a code; ancestor code tables.

    Returns ``(code_of, parent_code, depth)`` where ``parent_code[c]`` is the code of node c's
    parent (-1 for a top-level node) and ``depth[c]`` its level. The last code (``len``) is a
    sentinel for labels outside the taxonomy: no parent, level 0.
    """
    code_of: dict[tuple[str, int], int] = {}
    for name in taxonomy.NAMES:
        for lvl in (1, 2, 3):
            try:
                taxonomy.parent(name, lvl)
            except KeyError:
                continue
            code_of[(name, lvl)] = len(code_of)
    parent_code = np.full(len(code_of) + 1, -1, dtype=np.int64)
    depth = np.zeros(len(code_of) + 1, dtype=np.int64)
    for (name, lvl), code in code_of.items():
        depth[code] = lvl
        if lvl > 1:
            parent_code[code] = code_of[(taxonomy.parent(name, lvl), lvl - 1)]
    return code_of, parent_code, depth


def ancestor_table() -> np.ndarray:
    """``table[c]`` = codes of node c's parent and grandparent (-1 where there is none)."""
    _, parent_code, _ = _nodes()
    grand = np.where(parent_code >= 0, parent_code[np.maximum(parent_code, 0)], -1)
    return np.stack([parent_code, grand], axis=1)


def node_depths() -> np.ndarray:
    """``depths[c]`` = the taxonomy level of node code c (0 for the unknown-label sentinel)."""
    return _nodes()[2]


def node_codes(frame: pd.DataFrame) -> np.ndarray:
    """The taxonomy node code of every row (from ``label`` and ``level``).

    Rows whose label is not a v7 name get the sentinel code (no ancestors). A missing or zero
    ``level`` means the label's deepest level.
    """
    code_of, parent_code, _ = _nodes()
    sentinel = len(parent_code) - 1
    n = len(frame)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    label_codes, uniques = pd.factorize(frame["label"], use_na_sentinel=False)
    levels = (
        frame["level"].to_numpy(dtype=np.int64, na_value=0)
        if "level" in frame
        else np.zeros(n, dtype=np.int64)
    )
    pairs = label_codes.astype(np.int64) * 4 + np.clip(levels, 0, 3)
    unique_pairs, inverse = np.unique(pairs, return_inverse=True)
    lookup = np.empty(len(unique_pairs), dtype=np.int64)
    for i, pair in enumerate(unique_pairs.tolist()):
        name, lvl = uniques[pair // 4], pair % 4
        if lvl == 0 and isinstance(name, str) and taxonomy.is_known(name):
            lvl = taxonomy.level(name)
        lookup[i] = code_of.get((name, lvl), sentinel)
    return lookup[inverse]


# --- spans -------------------------------------------------------------------------------------


def aggregation(frame: pd.DataFrame) -> str:
    """``"TIMESTAMPS"`` or ``"SEGMENTS"``: how the rows of ``frame`` were aggregated.

    ``frame.attrs["aggregate_by"]`` decides when present; otherwise a frame without
    ``timestamp_ms``, or whose rows have ``end_ms`` after ``start_ms``, holds segments.
    """
    mode = frame.attrs.get("aggregate_by")
    if mode in (TIMESTAMPS, SEGMENTS):
        return mode
    if "timestamp_ms" not in frame:
        return SEGMENTS
    has_bounds = {"start_ms", "end_ms"} <= set(frame.columns)
    if has_bounds and (frame["end_ms"].to_numpy() > frame["start_ms"].to_numpy()).any():
        return SEGMENTS
    return TIMESTAMPS


def spans(frame: pd.DataFrame, mode: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (ms, int64) of every row: a TIMESTAMPS row's instant, a segment's bounds."""
    mode = mode or aggregation(frame)
    if mode == TIMESTAMPS:
        t = frame["timestamp_ms"].to_numpy(dtype=np.int64)
        return t, t
    start = frame["start_ms"].to_numpy(dtype=np.int64)
    end = np.maximum(frame["end_ms"].to_numpy(dtype=np.int64), start)
    return start, end


def union(
    start: np.ndarray, end: np.ndarray, gap_ms: int = 0, tiebreak: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Merge spans into disjoint runs: spans join while the next starts ≤ ``gap_ms`` after the
    furthest end so far.

    Returns ``(run_start, run_end, order, run_first, reach_owner)``: the runs (sorted), the
    order that sorts the spans by start (then ``tiebreak``), the position (in that order) of
    each run's first span, and for each sorted position the position of a span reaching
    furthest so far.
    """
    order = np.lexsort((tiebreak, start)) if tiebreak is not None else np.argsort(start)
    s, e = start[order], end[order]
    if len(s) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, order, empty, empty
    reach = np.maximum.accumulate(e)
    breaks = np.empty(len(s), dtype=bool)
    breaks[0] = True
    breaks[1:] = s[1:] - reach[:-1] > gap_ms
    first = np.flatnonzero(breaks)
    positions = np.arange(len(s))
    reach_owner = np.maximum.accumulate(np.where(e == reach, positions, 0))
    return s[first], np.maximum.reduceat(e, first), order, first, reach_owner


def cover(
    start: np.ndarray,
    end: np.ndarray,
    targets: np.ndarray,
    sources: np.ndarray,
    *,
    touch: bool = False,
    tiebreak: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which ``targets`` rows the union of ``sources`` rows covers (or, with ``touch``, meets).

    ``targets`` and ``sources`` are positions into ``start``/``end``. Returns a boolean per
    target and, for covered targets, the position of a source row that contains the target's
    start (-1 otherwise; only meaningful without ``touch``). Among several such sources, the
    choice depends on the spans and ``tiebreak`` (one value per row), not on the row order.
    """
    hit = np.zeros(len(targets), dtype=bool)
    owner = np.full(len(targets), -1, dtype=np.int64)
    if len(targets) == 0 or len(sources) == 0:
        return hit, owner
    ties = tiebreak[sources] if tiebreak is not None else None
    run_start, run_end, order, _, reach_owner = union(start[sources], end[sources], 0, ties)
    t_start, t_end = start[targets], end[targets]
    probe = t_end if touch else t_start
    run = np.searchsorted(run_start, probe, side="right") - 1
    ok = run >= 0
    safe = np.maximum(run, 0)
    hit = ok & (run_end[safe] >= (t_start if touch else t_end))
    # a source starting at or before the target's start that reaches furthest contains it
    sorted_starts = start[sources][order]
    pos = np.searchsorted(sorted_starts, t_start, side="right") - 1
    found = hit & (pos >= 0)
    owner[found] = sources[order[reach_owner[pos[found]]]]
    return hit, owner


def covered_by_descendants(
    start: np.ndarray,
    end: np.ndarray,
    codes: np.ndarray,
    targets: np.ndarray,
    sources: np.ndarray,
    *,
    touch: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`cover`, but each target row is compared only with its own descendants.

    ``targets``/``sources`` are boolean masks over the rows. Returns a boolean mask of the
    covered targets and, per row, a covering descendant's position (-1 when not covered).
    Loops over the taxonomy nodes present (a few dozen), never over rows.
    """
    n = len(codes)
    covered = np.zeros(n, dtype=bool)
    owner = np.full(n, -1, dtype=np.int64)
    anc = ancestor_table()[codes]
    with_children = np.unique(anc[sources])
    candidates = np.intersect1d(np.unique(codes[targets]), with_children[with_children >= 0])
    for node in candidates.tolist():
        rows = np.flatnonzero(targets & (codes == node))
        below = np.flatnonzero(sources & ((anc[:, 0] == node) | (anc[:, 1] == node)))
        hit, who = cover(start, end, rows, below, touch=touch, tiebreak=codes)
        covered[rows[hit]] = True
        owner[rows[hit]] = who[hit]
    return covered, owner


# --- review items ------------------------------------------------------------------------------


def drop_covered_ancestors(flagged: pd.DataFrame, mode: str | None = None) -> pd.DataFrame:
    """The flagged rows without those covered by a flagged descendant (see the module doc)."""
    if flagged.empty:
        return flagged
    start, end = spans(flagged, mode)
    every = np.ones(len(flagged), dtype=bool)
    covered, _ = covered_by_descendants(start, end, node_codes(flagged), every, every)
    return flagged.iloc[np.flatnonzero(~covered)]


def merge(frame: pd.DataFrame, gap_ms: int = 1500, *, mode: str | None = None) -> pd.DataFrame:
    """Merge rows of one label (and level) into items; no de-duplication (see :func:`review_items`).

    ``frame`` needs ``label``, ``confidence`` and spans (see :func:`spans`); ``level``,
    ``parent``, ``category`` and ``rule`` are carried over when present. An input that already
    has a ``detections`` count (review items) adds them up, so merging items again with the
    same ``gap_ms`` gives them back unchanged.
    """
    gap_ms = checks.duration_ms(gap_ms, "gap_ms")
    return _items(frame, np.arange(len(frame)), None, gap_ms, mode)


def review_items(
    flagged: pd.DataFrame, gap_ms: int = 1500, *, mode: str | None = None
) -> pd.DataFrame:
    """Review items from flagged rows: de-duplicate ancestors, then merge runs (module doc)."""
    gap_ms = checks.duration_ms(gap_ms, "gap_ms")
    if flagged.empty:
        return _items(flagged, np.zeros(0, dtype=np.int64), None, gap_ms, mode)
    mode = mode or aggregation(flagged)
    start, end = spans(flagged, mode)
    every = np.ones(len(flagged), dtype=bool)
    codes = node_codes(flagged)
    covered, _ = covered_by_descendants(start, end, codes, every, every)
    # Every moment of a covered row is also covered by descendants that are not themselves
    # covered (the deepest ones), so each covered row has a kept descendant at its start: the
    # row is folded into that descendant's item.
    _, owner = covered_by_descendants(start, end, codes, covered, ~covered)
    covered &= owner >= 0  # (cannot fail; if it did, the row would stay an item of its own)
    kept = np.flatnonzero(~covered)
    return _items(flagged, kept, (np.flatnonzero(covered), owner), gap_ms, mode)


def _items(
    frame: pd.DataFrame,
    kept: np.ndarray,
    folded: tuple[np.ndarray, np.ndarray] | None,
    gap_ms: int,
    mode: str | None,
) -> pd.DataFrame:
    n = len(kept)
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in ITEM_COLUMNS})
    start_all, end_all = spans(frame, mode)
    start, end = start_all[kept], end_all[kept]
    labels = frame["label"].to_numpy()[kept]
    levels = (
        frame["level"].to_numpy(dtype=np.int64, na_value=0)[kept]
        if "level" in frame
        else np.zeros(n, dtype=np.int64)
    )
    label_codes, _ = pd.factorize(labels, use_na_sentinel=False)
    group = label_codes.astype(np.int64) * 4 + np.clip(levels, 0, 3)
    order = np.lexsort((start, group))
    g, s, e = group[order], start[order], end[order]
    span = int(e.max() - min(int(s.min()), 0)) + gap_ms + 2
    offset = g * span
    reach = np.maximum.accumulate(e + offset) - offset
    breaks = np.empty(n, dtype=bool)
    breaks[0] = True
    breaks[1:] = (g[1:] != g[:-1]) | (s[1:] - reach[:-1] > gap_ms)
    first = np.flatnonzero(breaks)
    counts = np.diff(np.append(first, n))
    head = kept[order[first]]  # row position of each item's first detection
    confidence = frame["confidence"].to_numpy(dtype=np.float64)[kept][order]
    if "detections" in frame:
        detections = np.add.reduceat(
            frame["detections"].to_numpy(dtype=np.int64)[kept][order], first
        )
    else:
        detections = counts

    peak_ms, detections_ms = _times(frame, kept, order, first, s, e, confidence)

    def column(name: str, default: object = "") -> np.ndarray:
        if name in frame:
            return frame[name].to_numpy()[head]
        return np.full(len(first), default, dtype=object)

    item_start = s[first]
    item_label = labels[order[first]]
    item_level = levels[order[first]]
    items = pd.DataFrame(
        {
            "id": item_ids(item_label, item_level, item_start),
            "label": item_label,
            "parent": column("parent"),
            "level": item_level,
            "category": column("category"),
            "rule": column("rule"),
            "start_ms": item_start,
            "end_ms": np.maximum.reduceat(e, first),
            "confidence": np.round(np.maximum.reduceat(confidence, first), 2),
            "detections": detections.astype(np.int64),
            "rows": _rows(frame, kept, order, first, folded),
            "peak_ms": peak_ms,
            "detections_ms": detections_ms,
        }
    )
    items = items.sort_values(["start_ms", "label", "level"], kind="stable", ignore_index=True)
    ints = ("level", "start_ms", "end_ms", "detections", "peak_ms")
    return items.astype({c: _dtype(c) for c in ints})


def _times(
    frame: pd.DataFrame,
    kept: np.ndarray,
    order: np.ndarray,
    first: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    confidence: np.ndarray,
) -> tuple[np.ndarray, list[list[int]]]:
    """Per item: the time of its peak and the sorted times of its own detections (ms).

    ``s``, ``e`` and ``confidence`` are the kept rows in item order. A detection's time is the
    middle of its span (its timestamp in TIMESTAMPS mode). The peak is the detection with the
    highest confidence at the items' precision (2 decimals), the earliest on a tie, so merging
    items again gives the same peak. Items merged again bring their own times along.
    """
    n = len(order)
    counts = np.diff(np.append(first, n))
    item = np.repeat(np.arange(len(first)), counts)
    if "peak_ms" in frame and "detections_ms" in frame:  # merging items again
        mid = frame["peak_ms"].to_numpy(dtype=np.int64)[kept][order]
        nested = frame["detections_ms"].to_numpy()[kept][order]
        flat = np.concatenate([np.asarray(t, dtype=np.int64) for t in nested])
        owner = np.repeat(item, [len(t) for t in nested])
    else:
        mid = (s + e) // 2
        flat, owner = mid, item
    best = np.lexsort((mid, -np.round(confidence, 2), item))
    peak = mid[best[first]]
    by_time = np.lexsort((flat, owner))
    bounds = np.searchsorted(owner[by_time], np.arange(len(first) + 1))
    times = flat[by_time]
    return peak, [times[a:b].tolist() for a, b in itertools.pairwise(bounds.tolist())]


def _rows(
    frame: pd.DataFrame,
    kept: np.ndarray,
    order: np.ndarray,
    first: np.ndarray,
    folded: tuple[np.ndarray, np.ndarray] | None,
) -> list[np.ndarray]:
    """Per item, the index labels of the flagged rows it covers (views into one array)."""
    index = frame.index.to_numpy()
    if "rows" in frame and folded is None:  # merging items again: concatenate their rows
        nested = frame["rows"].to_numpy()[kept][order]
        bounds = np.append(first, len(order)).tolist()
        return [
            np.concatenate(list(nested[a:b])) if b - a > 1 else nested[a]
            for a, b in itertools.pairwise(bounds)
        ]
    item_of = np.full(len(frame), -1, dtype=np.int64)
    item_of[kept[order]] = np.repeat(np.arange(len(first)), np.diff(np.append(first, len(order))))
    if folded is not None and len(folded[0]):
        rows_folded, owner = folded
        item_of[rows_folded] = item_of[owner[rows_folded]]
    positions = np.flatnonzero(item_of >= 0)
    by_item = positions[np.argsort(item_of[positions], kind="stable")]
    flat = index[by_item]
    bounds = np.searchsorted(item_of[by_item], np.arange(len(first) + 1))
    return [flat[a:b] for a, b in itertools.pairwise(bounds.tolist())]


def _dtype(column: str) -> str:
    if column in ("level", "start_ms", "end_ms", "detections", "peak_ms"):
        return "int64"
    if column == "confidence":
        return "float64"
    return "object"


# --- ids ---------------------------------------------------------------------------------------

#: The two hex digits of every byte value, as uint16 (so a lookup gives two characters).
_HEX_PAIRS = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint16)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on uint64 that spreads every input bit."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def item_ids(labels: np.ndarray, levels: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Stable item ids, ``i-`` and 16 hex digits: a 64-bit hash of label, level and start.

    The same item gets the same id in every run, whatever the row order; two items of one label
    never share an id (the hash is a bijection of the start for a given label and level).
    """
    n = len(labels)
    if n == 0:
        return np.zeros(0, dtype=object)
    codes, uniques = pd.factorize(pd.Series(labels, dtype=object))
    seeds = np.array(
        [int.from_bytes(hashlib.sha256(str(u).encode()).digest()[:8], "big") for u in uniques],
        dtype=np.uint64,
    )
    x = _mix(seeds[codes] ^ np.asarray(levels, dtype=np.int64).astype(np.uint64))
    x = _mix(x ^ np.asarray(starts, dtype=np.int64).astype(np.uint64))
    text = np.empty((n, 18), dtype=np.uint8)
    text[:, :2] = np.frombuffer(b"i-", dtype=np.uint8)
    text[:, 2:] = _HEX_PAIRS[x.astype(">u8").view(np.uint8).reshape(n, 8)].view(np.uint8)
    return text.view("S18").ravel().astype("U18").astype(object)
