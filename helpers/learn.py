"""Learn from the reviews: what the verdicts say about Rekognition and about the rules.

Pure functions over a **verdicts frame**, one row per (item, worker), as
:func:`helpers.review.verdicts` and :func:`helpers.learn_store.verdicts_from_output` make it.
Required columns:

* ``id`` — the review item's id;
* ``category`` — its top-level category, ``label`` — Rekognition's label;
* ``confidence`` — the item's peak confidence (0-100);
* ``verdict`` — ``violation``, ``not_violation``, ``wrong_category`` or ``unsure`` (empty or
  missing for an item nobody answered: such rows are ignored);
* ``worker`` — who gave the verdict (needed for agreement);
* ``corrected_category`` — the reviewer's label for ``wrong_category``.

Optional columns (extra columns are tolerated): ``audit`` (True for an audit item, a sampled
detection the rules did *not* flag; default False), ``weight`` (how many unflagged items an
audit item stands for; default 1), ``run`` (the run id; default ``""``).

Two readings of a verdict are used, and they differ on purpose:

* **precision** asks "was Rekognition's label right?": only ``violation`` confirms it;
* **worth reviewing** asks "should a person see this?": ``violation`` and ``wrong_category``
  (a violation, of another label) both say yes.

``unsure`` verdicts count in neither numerator nor denominator. With several reviewers per item
(TaskCount above 1), an item's verdict is the majority; a tie goes to escalation and the item is
left out of the estimates (:func:`consensus`).

Reviewers only see what the rules flagged, so verdicts measure precision, never what the rules
let through. :func:`audit_sample` draws a stratified random sample of unflagged detections to
put in the review; :func:`missed_violations` estimates from their verdicts how many violations
the rules miss.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from html import escape
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from helpers import pricing, review, segments, taxonomy
from helpers.errors import InputError
from helpers.rules import RuleSet, decisions

#: Columns every function here needs.
REQUIRED_COLUMNS = ("id", "category", "label", "confidence", "verdict")
#: Confidence bands (left-closed) of :func:`precision`.
DEFAULT_BANDS = (50.0, 60.0, 70.0, 80.0, 90.0, 100.0)
#: Verdicts that say "a person should see this".
WORTH_REVIEWING = ("violation", "wrong_category")
#: The verdict an item gets when its reviewers tie.
ESCALATE = "escalate"


# --- intervals ---------------------------------------------------------------------------------


def wilson(
    successes: int, n: int, level: float = 0.95, *, continuity: bool = True
) -> tuple[float, float]:
    """Wilson's score interval for a proportion; ``(nan, nan)`` when ``n`` is 0.

    With ``continuity`` (the default) the interval has Yates's continuity correction
    (Newcombe 1998, method 4): it covers the true proportion at least as often as ``level``
    says. Plain Wilson (``continuity=False``) is narrower, but for some counts it covers the
    truth less often than stated (about 93-94 % instead of 95 %), and a threshold decided on
    such an interval would be riskier than it looks.
    """
    if n <= 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    if not continuity:
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        return (max(0.0, centre - half), min(1.0, centre + half))
    denominator = 2 * (n + z * z)
    low, high = 0.0, 1.0
    if successes > 0:
        root = math.sqrt(max(0.0, z * z - 2 - 1 / n + 4 * p * (n * (1 - p) + 1)))
        low = max(0.0, (2 * n * p + z * z - 1 - z * root) / denominator)
    if successes < n:
        root = math.sqrt(max(0.0, z * z + 2 - 1 / n + 4 * p * (n * (1 - p) - 1)))
        high = min(1.0, (2 * n * p + z * z + 1 + z * root) / denominator)
    return (low, high)


def corrected(rate: float, accuracy: float | None) -> float:
    """The true share behind an observed share, for reviewers right with chance ``accuracy``.

    Reviewers who err symmetrically confirm a share ``r = p·a + (1 − p)(1 − a)``; this returns
    ``p = (r + a − 1) / (2a − 1)`` clipped to [0, 1] (Rogan and Gladen). It is monotone in
    ``r``, so it maps an interval for ``r`` to one for ``p`` with the same coverage.
    """
    if accuracy is None or math.isnan(rate):
        return rate
    if not 0.5 < accuracy <= 1:
        raise InputError(
            f"Reviewer accuracy {accuracy} is out of range", "use a value above 0.5, up to 1"
        )
    return min(1.0, max(0.0, (rate + accuracy - 1) / (2 * accuracy - 1)))


# --- the frame ---------------------------------------------------------------------------------


def check_verdicts(frame: pd.DataFrame) -> pd.DataFrame:
    """The answered rows of a verdicts frame with the optional columns filled in.

    Raises :class:`InputError` naming the missing columns.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"The verdicts table has no column(s) {', '.join(missing)}",
            "pass the table from helpers.review.verdicts or helpers.learn_store.load_results",
        )
    out = frame[frame["verdict"].notna() & (frame["verdict"].astype(str) != "")].copy()
    defaults = {"worker": "", "corrected_category": "", "audit": False, "weight": 1.0, "run": ""}
    for name, value in defaults.items():
        if name not in out.columns:
            out[name] = value
    out["audit"] = out["audit"].fillna(False).astype(bool)
    out["weight"] = pd.to_numeric(out["weight"], errors="coerce").fillna(1.0)
    out["confidence"] = pd.to_numeric(out["confidence"], errors="coerce")
    out["run"] = out["run"].fillna("").astype(str)
    return out


def consensus(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per item (and run): its majority verdict and how far reviewers agreed.

    Columns: the item's ``run``, ``id``, ``category``, ``label``, ``confidence``, ``audit``,
    ``weight``, then ``ratings`` (verdicts given), ``verdict`` (the majority, or ``escalate``
    on a tie between the top verdicts), ``agreement`` (share of ratings equal to the most
    common verdict), ``verdicts`` (every verdict, sorted) and ``corrected_category`` (the most
    common correction among ``wrong_category`` verdicts).
    """
    rows = check_verdicts(frame)
    key = rows["run"] + "\x00" + rows["id"].astype(str)
    codes, _ = pd.factorize(key)
    vcodes, kinds = pd.factorize(rows["verdict"].astype(str))
    counts = np.zeros((codes.max() + 1 if len(codes) else 0, len(kinds)), dtype=np.int64)
    np.add.at(counts, (codes, vcodes), 1)
    _, first = np.unique(codes, return_index=True)
    cols = ["run", "id", "category", "label", "confidence", "audit", "weight"]
    out = rows.iloc[first][cols].reset_index(drop=True)
    ratings = counts.sum(axis=1)
    top = counts.max(axis=1, initial=0)
    ties = (counts == top[:, None]).sum(axis=1) > 1
    modal = np.asarray(kinds, dtype=object)[counts.argmax(axis=1)] if len(kinds) else []
    out["ratings"] = ratings
    out["verdict"] = np.where(ties, ESCALATE, modal)
    out["agreement"] = top / np.maximum(ratings, 1)
    names = sorted(range(len(kinds)), key=lambda k: str(kinds[k]))
    out["verdicts"] = [
        ", ".join(str(kinds[k]) for k in names for _ in range(row[k])) for row in counts.tolist()
    ]
    fixes: dict[int, dict[str, int]] = {}
    wrong = (rows["verdict"] == "wrong_category").to_numpy()
    for code, fix in zip(codes[wrong], rows["corrected_category"][wrong].astype(str), strict=True):
        tally = fixes.setdefault(int(code), {})
        tally[fix] = tally.get(fix, 0) + 1
    out["corrected_category"] = [
        max(fixes[k], key=lambda f, k=k: fixes[k][f]) if k in fixes else "" for k in range(len(out))
    ]
    return out


# --- precision ---------------------------------------------------------------------------------


def _rate_table(
    items: pd.DataFrame, keys: list[str], level: float, accuracy: float | None
) -> pd.DataFrame:
    """Per group of ``keys``: ``items``, ``confirmed`` (``hit``) and the corrected share."""
    if items.empty:
        columns = [*keys, "items", "confirmed", "precision", "low", "high"]
        return pd.DataFrame(columns=columns)
    codes = items.groupby(keys, sort=False, observed=True).ngroup().to_numpy()
    n = np.bincount(codes)
    x = np.bincount(codes, weights=items["hit"].to_numpy(dtype=float)).astype(int)
    _, first = np.unique(codes, return_index=True)
    stats = items.iloc[first][keys].reset_index(drop=True)
    bounds = [wilson(int(c), int(t), level) for c, t in zip(x, n, strict=True)]
    stats["items"], stats["confirmed"] = n, x
    stats["precision"] = [corrected(c / t, accuracy) for c, t in zip(x, n, strict=True)]
    stats["low"] = [corrected(lo, accuracy) for lo, _ in bounds]
    stats["high"] = [corrected(hi, accuracy) for _, hi in bounds]
    return stats


def precision(
    verdicts: pd.DataFrame,
    *,
    by_band: bool = False,
    bands: Sequence[float] = DEFAULT_BANDS,
    level: float = 0.95,
    reviewer_accuracy: float | None = None,
) -> pd.DataFrame:
    """Per category (and confidence band): the share of flagged items reviewers confirmed.

    Counts one verdict per item (:func:`consensus`); audit items, ties and ``unsure`` verdicts
    are left out. Columns: ``category`` (and ``band``), ``items`` (decided items),
    ``confirmed`` (``violation`` verdicts), ``precision`` and its Wilson interval ``low`` and
    ``high`` at ``level``. With ``reviewer_accuracy`` (the chance a reviewer is right, e.g.
    from gold checks) the share and its interval are corrected for reviewer error
    (:func:`corrected`).
    """
    items = consensus(verdicts)
    items = items[~items["audit"] & ~items["verdict"].isin([ESCALATE, "unsure"])].copy()
    items["hit"] = items["verdict"] == "violation"
    keys = ["category"]
    if by_band:
        items["band"] = band_of(items["confidence"], bands)
        keys.append("band")
    table = _rate_table(items, keys, level, reviewer_accuracy)
    return table.sort_values(keys, key=_category_order, ignore_index=True)


def band_of(confidence: pd.Series, bands: Sequence[float] = DEFAULT_BANDS) -> pd.Series:
    """The band (``"80-90"``) each confidence falls in; the last band includes its top."""
    edges = list(bands)
    labels = [f"{a:g}-{b:g}" for a, b in itertools.pairwise(edges)]
    cut = pd.cut(confidence.clip(upper=edges[-1]), edges, right=False, labels=labels)
    return cut.where(confidence < edges[-1], labels[-1]).astype(
        pd.CategoricalDtype(labels, ordered=True)
    )


def _category_order(column: pd.Series) -> pd.Series:
    if column.name != "category":
        return column
    order = {name: i for i, name in enumerate(taxonomy.TOP_LEVEL)}
    return column.map(lambda c: (order.get(c, len(order)), str(c)))


def corrections(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The corrections as a confusion table: Rekognition's label (rows) against the reviewers'.

    The reviewers' label is the item's own for ``violation``, the corrected one for
    ``wrong_category`` and ``(not a violation)`` for ``not_violation``. One count per item
    (majority verdict); ties and ``unsure`` are left out.
    """
    items = consensus(verdicts)
    items = items[~items["verdict"].isin([ESCALATE, "unsure"])]
    said = np.select(
        [items["verdict"] == "violation", items["verdict"] == "wrong_category"],
        [items["label"], items["corrected_category"]],
        "(not a violation)",
    )
    table = pd.crosstab(
        items["label"].rename("Rekognition"), pd.Series(said, index=items.index, name="reviewers")
    )
    return table


# --- agreement ---------------------------------------------------------------------------------


def agreement(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per item with more than one rating: majority verdict, agreement share and every verdict."""
    items = consensus(verdicts)
    cols = ["run", "id", "category", "label", "confidence", "ratings", "verdict", "agreement"]
    return items.loc[items["ratings"] > 1, [*cols, "verdicts"]].reset_index(drop=True)


def disagreements(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The items whose reviewers did not all give the same verdict (ties first)."""
    table = agreement(verdicts)
    out = table[table["agreement"] < 1].copy()
    out["tie"] = out["verdict"] == ESCALATE
    return out.sort_values(["tie", "agreement"], ascending=[False, True], ignore_index=True)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from an items × verdicts matrix of counts (same raters per item).

    With two raters it equals Scott's pi, which is close to Cohen's kappa when the raters'
    overall verdict shares are similar. ``nan`` when there is nothing to compare or every
    rating is the same verdict.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[0] == 0:
        return math.nan
    m = counts.sum(axis=1)
    if not np.all(m == m[0]) or m[0] < 2:
        raise InputError(
            "Fleiss' kappa needs the same number of ratings (2 or more) for every item",
            "keep only the items with TaskCount answers",
        )
    n = m[0]
    p_item = ((counts * (counts - 1)).sum(axis=1)) / (n * (n - 1))
    shares = counts.sum(axis=0) / counts.sum()
    p_e = float((shares**2).sum())
    if p_e >= 1:
        return math.nan
    return float((p_item.mean() - p_e) / (1 - p_e))


def cohen_kappa(first: Sequence[Any], second: Sequence[Any]) -> float:
    """Cohen's kappa of two raters' verdicts on the same items."""
    a, b = pd.Series(list(first), dtype=object), pd.Series(list(second), dtype=object)
    if len(a) != len(b):
        raise InputError("The two raters rated different numbers of items", "pair them by item")
    if len(a) == 0:
        return math.nan
    p_o = float((a.to_numpy() == b.to_numpy()).mean())
    pa, pb = a.value_counts(normalize=True), b.value_counts(normalize=True)
    p_e = float(pa.mul(pb, fill_value=0).sum())
    return math.nan if p_e >= 1 else (p_o - p_e) / (1 - p_e)


def kappa(verdicts: pd.DataFrame, *, binary: bool = True) -> pd.DataFrame:
    """Agreement beyond chance per category: Cohen's kappa for 2 raters, Fleiss' for more.

    Uses the items with the most common number of ratings. With ``binary`` the verdicts are
    read as worth reviewing or not (:data:`WORTH_REVIEWING`); otherwise the four verdicts are
    compared as they are. Columns: ``category``, ``items``, ``raters``, ``method``, ``kappa``.
    """
    rows = check_verdicts(verdicts)
    rows = rows[~rows["verdict"].isin(["unsure"])] if binary else rows
    rows = rows.assign(v=rows["verdict"].isin(WORTH_REVIEWING) if binary else rows["verdict"])
    sizes = rows.groupby(["run", "id"])["v"].transform("size")
    out = []
    for category, group in rows[sizes > 1].groupby("category", sort=False):
        n_raters = int(group.groupby(["run", "id"]).size().mode().iloc[0])
        keep = group.groupby(["run", "id"])["v"].transform("size") == n_raters
        group = group[keep]
        if n_raters == 2:
            ordered = group.sort_values(["run", "id", "worker"])
            pairs = ordered["v"].to_numpy().reshape(-1, 2)
            value, method = cohen_kappa(pairs[:, 0], pairs[:, 1]), "Cohen"
        else:
            counts = pd.crosstab([group["run"], group["id"]], group["v"]).to_numpy()
            value, method = fleiss_kappa(counts), "Fleiss"
        items = int(len(group) // n_raters)
        out.append(
            {"category": category, "items": items, "raters": n_raters, "method": method}
            | {"kappa": value}
        )
    table = pd.DataFrame(out, columns=["category", "items", "raters", "method", "kappa"])
    return table.sort_values("category", key=_category_order, ignore_index=True)


# --- audit sample ------------------------------------------------------------------------------

#: Why a detection was not flagged.
BELOW_THRESHOLD, NO_RULE, EXCLUDED = "below threshold", "no rule", "excluded"


def unflagged_items(
    labels: pd.DataFrame, rules: RuleSet, *, gap_ms: int = 1500, include_excluded: bool = False
) -> pd.DataFrame:
    """Items (as review items) made of detections the rules did not flag, with ``reason``.

    Every detection is merged into items as for review (ancestors folded into their most
    specific label, runs of one label merged); an item is unflagged when its peak confidence
    is below its rule's threshold (``below threshold``) or no rule covers its label
    (``no rule``); items of excluded labels come too with ``include_excluded``.
    """
    items = segments.review_items(labels, int(gap_ms))
    decide = decisions(rules)
    entry = [decide.get(label) for label in items["label"]]
    threshold = np.array([e[1] if e else np.nan for e in entry], dtype=float)
    has_rule = np.array([e is not None for e in entry])
    excluded = has_rule & np.isnan(threshold)
    below = has_rule & ~excluded & (items["confidence"].to_numpy(dtype=float) < threshold)
    reason = np.select([~has_rule, excluded, below], [NO_RULE, EXCLUDED, BELOW_THRESHOLD], "")
    out = items.assign(reason=reason, threshold=threshold)
    keep = (out["reason"] != "") & (include_excluded | (out["reason"] != EXCLUDED))
    return out[keep].reset_index(drop=True)


def audit_sample(
    labels: pd.DataFrame,
    rules: RuleSet,
    fraction: float,
    *,
    seed: int = 0,
    gap_ms: int = 1500,
    flagged_items: pd.DataFrame | None = None,
    include_excluded: bool = False,
) -> pd.DataFrame:
    """A stratified random sample of the items the rules did not flag, to review as an audit.

    Strata are (``category``, ``reason``); each gives ``ceil(fraction × size)`` items, drawn
    without replacement with ``numpy.random.default_rng(seed)``, so every stratum with items is
    seen. The result has the review items' columns (:data:`helpers.segments.ITEM_COLUMNS`),
    so it joins the review like any other item, plus ``audit`` (True), ``reason``,
    ``population`` (items in the stratum) and ``weight`` (``population / sampled``). Items
    whose id is already among ``flagged_items`` are left out.
    """
    if not 0 < fraction <= 1:
        raise InputError(f"Audit fraction {fraction} is out of range", "use a value in (0, 1]")
    pool = unflagged_items(labels, rules, gap_ms=gap_ms, include_excluded=include_excluded)
    if flagged_items is not None and len(flagged_items):
        pool = pool[~pool["id"].isin(set(flagged_items["id"]))]
    sample = stratified_sample(pool, fraction, seed=seed)
    sample["rule"] = ""
    columns = [*segments.ITEM_COLUMNS, "audit", "reason", "population", "weight"]
    return sample[columns].sort_values(["start_ms", "id"], ignore_index=True)


def stratified_sample(
    pool: pd.DataFrame,
    fraction: float,
    *,
    seed: int = 0,
    strata: Sequence[str] = ("category", "reason"),
) -> pd.DataFrame:
    """``ceil(fraction × size)`` rows of every stratum of ``pool``, drawn without replacement.

    Adds ``audit`` (True), ``population`` (rows in the stratum) and ``weight``
    (``population / sampled``). Seeded: the same pool, fraction and seed give the same rows.
    """
    if not 0 < fraction <= 1:
        raise InputError(f"Audit fraction {fraction} is out of range", "use a value in (0, 1]")
    rng = np.random.default_rng(seed)
    picks = []
    for _, stratum in pool.groupby(list(strata), sort=True):
        size = len(stratum)
        take = min(size, math.ceil(fraction * size - 1e-9))
        chosen = stratum.iloc[np.sort(rng.choice(size, size=take, replace=False))]
        picks.append(chosen.assign(population=size, weight=size / take))
    if not picks:
        return pool.iloc[:0].assign(audit=True, population=0, weight=1.0)
    return pd.concat(picks, ignore_index=True).assign(audit=True)


def audit_cost(
    items: pd.DataFrame,
    audit: pd.DataFrame,
    *,
    duration_ms: int,
    rules_name: str = "rules",
    reviewers_per_loop: int = 1,
    seconds_per_item: float = 10.0,
) -> pd.DataFrame:
    """What adding the audit sample costs: items, loops, A2I dollars and reviewer minutes.

    A2I bills per reviewed object (one per loop and reviewer), so audit items cost dollars only
    when they make the input need another loop; they always cost reviewers' time.
    """
    from helpers.tuner import count_loops

    combined = pd.concat([items, audit[items.columns.intersection(audit.columns)]])
    rows = []
    for name, frame in (("review", items), ("review + audit", combined)):
        loops = count_loops(frame, duration_ms, rules_name) if len(frame) else 0
        rows.append(
            {
                "review": name,
                "items": len(frame),
                "loops": loops,
                "a2i_usd": round(pricing.review_cost(loops, reviewers_per_loop), 4),
                "reviewer_minutes": round(
                    len(frame) * reviewers_per_loop * seconds_per_item / 60, 1
                ),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs["note"] = (
        f"A2I list price {pricing.prices()['a2i_per_reviewed_object']['price']} USD per reviewed "
        f"object, read {pricing.prices()['read_on']}; {seconds_per_item:g} s per item assumed."
    )
    return table


def audit_summary(audit: pd.DataFrame) -> pd.DataFrame:
    """The audit sample per stratum: population, sampled and weight."""
    cols = ["category", "reason", "population"]
    if audit.empty:
        return pd.DataFrame(columns=[*cols, "sampled", "weight"])
    table = audit.groupby(cols, sort=False).agg(sampled=("id", "size")).reset_index()
    table["weight"] = table["population"] / table["sampled"]
    return table.sort_values(["category", "reason"], key=_category_order, ignore_index=True)


def missed_violations(
    verdicts: pd.DataFrame, *, level: float = 0.95, reviewer_accuracy: float | None = None
) -> pd.DataFrame:
    """From the audit items' verdicts: per category, the rate of violations the rules let through.

    A violation here is a verdict worth reviewing (``violation`` or ``wrong_category``), one per
    item (majority; ties and ``unsure`` left out). Columns: ``category``, ``audited``,
    ``violations``, ``rate`` with its Wilson interval ``low`` and ``high``, ``unflagged`` (the
    unflagged items the audited ones stand for, from their weights) and ``missed`` (the
    estimated number of violations the rules let through, with ``missed_low`` and
    ``missed_high``). With equal sampling fractions in a category's strata (as
    :func:`audit_sample` draws them) the sample is self-weighting and the rate is unbiased.
    ``reviewer_accuracy`` corrects for reviewer error as in :func:`precision`.
    """
    items = consensus(verdicts)
    items = items[items["audit"] & ~items["verdict"].isin([ESCALATE, "unsure"])].copy()
    items["hit"] = items["verdict"].isin(WORTH_REVIEWING)
    stats = []
    for category, group in items.groupby("category", sort=False):
        n, x = len(group), int(group["hit"].sum())
        low, high = (corrected(b, reviewer_accuracy) for b in wilson(x, n, level))
        rate = corrected(x / n, reviewer_accuracy)
        unflagged = float(group["weight"].sum())
        stats.append(
            {
                "category": category,
                "audited": n,
                "violations": x,
                "rate": rate,
                "low": low,
                "high": high,
                "unflagged": round(unflagged, 1),
                "missed": round(rate * unflagged, 1),
                "missed_low": round(low * unflagged, 1),
                "missed_high": round(high * unflagged, 1),
            }
        )
    columns = ["category", "audited", "violations", "rate", "low", "high", "unflagged"]
    table = pd.DataFrame(stats, columns=[*columns, "missed", "missed_low", "missed_high"])
    return table.sort_values("category", key=_category_order, ignore_index=True)


def mark_audit(loop_inputs: Iterable[dict[str, Any]], audit: pd.DataFrame) -> list[dict[str, Any]]:
    """Loop inputs with their audit items marked: ``"audit": true`` on each audit item.

    The reviewer's page ignores the field (the reviewer cannot tell audit items from others);
    the output's ``inputContent`` keeps it, which is how :func:`helpers.learn_store.
    verdicts_from_output` finds the audit items again. Each input also records the audit's
    strata under ``"audit"`` (category, reason, population, sampled), for the weights. Raises
    :class:`InputError` if the marks take an input past A2I's size limit (plan the windows with
    a little room, ``plan_loop_inputs(..., max_chars=...)``).
    """
    ids = set(audit["id"]) if len(audit) else set()
    strata = audit_summary(audit) if len(audit) else pd.DataFrame()
    record = [
        {
            "category": str(r.category),
            "reason": str(r.reason),
            "population": int(r.population),
            "sampled": int(r.sampled),
        }
        for r in strata.itertuples()
    ]
    out = []
    for doc in loop_inputs:
        items = [dict(item, audit=True) if item["id"] in ids else item for item in doc["items"]]
        marked = {**doc, "items": items, "audit": {"strata": record}}
        review.input_content(marked)  # the marks add a few characters: still within A2I's limit
        out.append(marked)
    return out


# --- suggested rules ---------------------------------------------------------------------------


def _threshold_for(confidences: np.ndarray, recall: float) -> float:
    """The highest whole-number threshold keeping at least ``recall`` of the confidences."""
    ordered = np.sort(confidences)[::-1]
    keep = max(1, math.ceil(recall * len(ordered) - 1e-9))
    return float(math.floor(ordered[keep - 1]))


def suggest_thresholds(
    verdicts: pd.DataFrame, rules: RuleSet, *, recall: float = 1.0
) -> pd.DataFrame:
    """Per rule: the threshold that keeps ``recall`` of the confirmed violations, on the evidence.

    ``recall`` 1.0 means "keep every confirmed violation". A threshold is raised only as far as
    the evidence shows review items it would spare, and lowered as far as the target needs.
    Evidence is every decided item
    (majority verdict): reviewed items count once, audit items by their ``weight``. Items are
    grouped by the rule entry that decides their label (:func:`helpers.rules.decisions`), or by
    their top-level category when no rule covers them (audit evidence only).

    Columns: ``rule``, ``current`` and ``suggested`` threshold (``nan``: no rule), ``evidence``
    (decided items), ``violations`` (worth reviewing), ``items_now`` and ``items_suggested``
    (estimated review items at each threshold), ``saved`` (their difference), ``violations_lost``
    (estimated violations below the suggested threshold), ``recall`` (on the evidence) and a
    ``note``. A rule with no confirmed violation keeps its threshold: absence of evidence is
    not evidence enough to stop reviewing.
    """
    if not 0 < recall <= 1:
        raise InputError(f"Target recall {recall} is out of range", "use a value in (0, 1]")
    items = consensus(verdicts)
    items = items[~items["verdict"].isin([ESCALATE, "unsure"])].copy()
    decide = decisions(rules)
    entry = [decide.get(label) for label in items["label"]]
    items["rule"] = [
        e[0] if e else taxonomy.top_level(label) if taxonomy.is_known(label) else category
        for e, label, category in zip(entry, items["label"], items["category"], strict=False)
    ]
    items["current"] = [e[1] if e else np.nan for e in entry]
    items["hit"] = items["verdict"].isin(WORTH_REVIEWING)
    rows = []
    for rule, group in items.groupby("rule", sort=False):
        current = float(group["current"].iloc[0])
        if math.isnan(current) and rule in rules.exclusions:
            continue
        conf, weight, hit = (group[c].to_numpy() for c in ("confidence", "weight", "hit"))
        conf = conf.astype(float)
        violations = conf[hit]
        if len(violations):
            suggested = _threshold_for(violations, recall)
            note = "keeps the target on the evidence"
            if math.isnan(current):
                note = "new rule: the audit found violations here"
            elif suggested > current:
                # raise only as far as the evidence shows a saving: just above the highest item
                # it would no longer send to review (a higher value only adds risk)
                spared = conf[(conf >= current) & (conf < suggested)]
                if len(spared):
                    suggested = min(suggested, float(math.floor(spared.max()) + 1))
                else:
                    suggested, note = current, "nothing to save on the evidence: kept as it is"
        else:
            suggested = current
            note = "no confirmed violation: kept as it is" if not math.isnan(current) else ""
            if math.isnan(current):
                note = "no rule and no violation found: none suggested"

        def workload(threshold: float, conf: np.ndarray = conf, weight: Any = weight) -> float:
            return 0.0 if math.isnan(threshold) else float(weight[conf >= threshold].sum())

        if 0 < len(violations) < 5:
            note += f"; only {len(violations)} violation(s) seen: weak evidence"
        lost = 0.0 if math.isnan(suggested) else float(weight[hit & (conf < suggested)].sum())
        total = float(weight[hit].sum())
        rows.append(
            {
                "rule": rule,
                "current": current,
                "suggested": suggested,
                "evidence": len(group),
                "violations": int(hit.sum()),
                "items_now": round(workload(current), 1),
                "items_suggested": round(workload(suggested), 1),
                "violations_lost": round(lost, 1),
                "recall": (total - lost) / total if total else math.nan,
                "note": note,
            }
        )
    columns = ["rule", "current", "suggested", "evidence", "violations", "items_now"]
    columns += ["items_suggested", "violations_lost", "recall", "note"]
    table = pd.DataFrame(rows, columns=columns)
    table.insert(7, "saved", (table["items_now"] - table["items_suggested"]).round(1))
    return table


def provenance(verdicts: pd.DataFrame, *, today: date | None = None) -> dict[str, Any]:
    """Where suggestions come from: runs, date and counts."""
    rows = check_verdicts(verdicts)
    items = consensus(verdicts)
    return {
        "runs": sorted(set(rows["run"]) - {""}) or ["(unnamed run)"],
        "date": (today or date.today()).isoformat(),
        "verdicts": len(rows),
        "items": len(items),
        "audit_items": int(items["audit"].sum()),
    }


def suggested_rules(
    table: pd.DataFrame,
    rules: RuleSet,
    source: Mapping[str, Any],
    *,
    recall: float = 1.0,
    name: str | None = None,
) -> RuleSet:
    """A rule set with the suggested thresholds; its description records where it came from.

    Rules without a suggestion keep their threshold; exclusions are kept. The description
    (the rule file's only free-text field, so :meth:`RuleSet.load` and the tuner load the file
    unchanged) names the runs, the date, the counts and the target.
    """
    categories = dict(rules.categories)
    for row in table.itertuples():
        if not math.isnan(row.suggested):
            categories[str(row.rule)] = float(row.suggested)
    runs = ", ".join(source["runs"])
    description = (
        f"Suggested by helpers.learn on {source['date']} from run(s) {runs}: "
        f"{source['verdicts']} verdicts on {source['items']} items "
        f"({source['audit_items']} audit items), target recall {recall:g}, "
        f"starting from rule set `{rules.name}`. Check before use."
    )
    return RuleSet(
        name=name or f"{rules.name.removesuffix('-learned')}-learned",
        categories=categories,
        exclusions=rules.exclusions,
        description=description,
    )


def write_rules(ruleset: RuleSet, path: str | Path) -> Path:
    """Write a rule file (``templates/rules`` format) and load it back to check it."""
    out = ruleset.save(path)
    RuleSet.load(out)
    return out


def workload_table(
    verdicts: pd.DataFrame, rules: RuleSet, targets: Sequence[float] = (1.0, 0.95, 0.9, 0.8)
) -> pd.DataFrame:
    """Targets, thresholds and workload side by side: one row per (target, rule)."""
    parts = [
        suggest_thresholds(verdicts, rules, recall=t).assign(target=t) for t in targets if t > 0
    ]
    if not parts:
        return pd.DataFrame()
    table = pd.concat(parts, ignore_index=True)
    cols = ["target", "rule", "current", "suggested", "items_now", "items_suggested", "saved"]
    return table[[*cols, "violations_lost", "recall"]]


# --- figure and widget -------------------------------------------------------------------------

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def precision_plot(table: pd.DataFrame, *, title: str | None = None) -> Any:
    """Precision against confidence, one line per category, with Wilson intervals (SVG).

    ``table`` is :func:`precision` with ``by_band=True``. Returns a
    :class:`helpers.plots.SvgFigure` whose ``info["alt"]`` (also the SVG's ``aria-label``)
    describes the figure in words.
    """
    from helpers import plots

    width, height, left, right, top, bottom = 760, 360, 60, 230, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    bands = list(table["band"].cat.categories) if len(table) else []

    def x(i: float) -> float:
        return left + (i + 0.5) / max(len(bands), 1) * plot_w

    def y(v: float) -> float:
        return top + (1 - v) * plot_h

    body = []
    for v in (0, 0.25, 0.5, 0.75, 1.0):
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="#d0d7de" stroke-width="0.6"/><text x="{left - 6}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{v:.0%}</text>'
        )
    for i, band in enumerate(bands):
        body.append(
            f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{band}</text>'
        )
    body.append(
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">'
        "Rekognition confidence (%)</text>"
        f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
        'text-anchor="middle">precision</text>'
    )
    described = []
    legend_y = top + 14  # legend entries wrap, never cut: each starts below the one before
    groups = list(table.groupby("category", sort=False, observed=True))
    step = min(0.12, 0.6 / max(len(groups), 1))  # categories side by side within a band
    for k, (category, group) in enumerate(groups):
        colour = _PALETTE[k % len(_PALETTE)]
        rows = zip(group["band"], group.itertuples(), strict=True)
        shift = (k - (len(groups) - 1) / 2) * step
        points = [(bands.index(b) + shift, r) for b, r in rows]
        path = " ".join(f"{x(i):.1f},{y(r.precision):.1f}" for i, r in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, r in points:
            body.append(
                f'<line class="interval" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(r.low):.1f}" '
                f'y2="{y(r.high):.1f}" stroke="{colour}" stroke-opacity="0.5" stroke-width="5"/>'
                f'<circle class="point" data-category="{escape(str(category))}" '
                f'data-band="{r.band}" data-precision="{r.precision:.3f}" cx="{x(i):.1f}" '
                f'cy="{y(r.precision):.1f}" r="4" fill="{colour}"/>'
            )
        lines = plots._wrap(str(category), 28)
        spans = "".join(
            f'<tspan x="{left + plot_w + 32}" y="{legend_y + 13 * j}">{escape(line)}</tspan>'
            for j, line in enumerate(lines)
        )
        body.append(
            f'<rect x="{left + plot_w + 16}" y="{legend_y - 9}" width="12" height="10" '
            f'fill="{colour}"/><text>{spans}</text>'
        )
        legend_y += 13 * len(lines) + 5
        parts = ", ".join(f"{r.band}: {r.precision:.0%} of {r.items}" for _, r in points)
        described.append(f"{category} ({parts})")
    text = title or "Precision against confidence, per category (bars: 95 % intervals)"
    alt = f"{text}. " + ("; ".join(described) if described else "No decided items.")
    svg = plots._document(width, height, text, body, alt)
    info: dict[str, object] = {"categories": list(dict.fromkeys(table["category"])), "alt": alt}
    return plots.SvgFigure(svg, text, width, height, info)


class ThresholdWidget:
    """Targets, thresholds and workload side by side: move the target, see what it costs.

    A thin view over :func:`suggest_thresholds` (its headless twin): ``widget.table`` is the
    latest table and ``widget.recall`` the chosen target.
    """

    def __init__(self, verdicts: pd.DataFrame, rules: RuleSet, recall: float = 1.0) -> None:
        import ipywidgets as widgets

        self.verdicts, self.rules = verdicts, rules
        self.slider = widgets.FloatSlider(
            value=recall, min=0.5, max=1.0, step=0.05, description="target recall"
        )
        self.output = widgets.Output()
        self.summary = widgets.HTML()
        self.slider.observe(self._refresh, names="value")
        self.box = widgets.VBox([self.slider, self.summary, self.output])
        self._refresh()

    @property
    def recall(self) -> float:
        return float(self.slider.value)

    def _refresh(self, _change: Any = None) -> None:
        self.table = suggest_thresholds(self.verdicts, self.rules, recall=self.recall)
        now = float(self.table["items_now"].sum()) if len(self.table) else 0.0
        then = float(self.table["items_suggested"].sum()) if len(self.table) else 0.0
        lost = float(self.table["violations_lost"].sum()) if len(self.table) else 0.0
        self.summary.value = (
            f"At recall {self.recall:.0%}: about {then:,.0f} review items instead of "
            f"{now:,.0f}, with about {lost:,.0f} violation(s) on the evidence below threshold."
        )
        self.output.clear_output(wait=True)
        with self.output:
            from IPython.display import display

            display(self.table)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = self.box._repr_mimebundle_(**kwargs)
        return bundle

    def __repr__(self) -> str:
        return f"<ThresholdWidget recall={self.recall:g}, {len(self.table)} rules>"
