"""Static figures of the moderation labels: a timeline of the video and a per-category summary.

The figures are plain matplotlib :class:`~matplotlib.figure.Figure` objects made without
pyplot (no global state, safe on the Agg backend and in threads). They show up as PNG images
when a notebook cell ends on one, so they survive in executed notebooks.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from helpers import segments, taxonomy

#: Colour map of detection confidence.
CMAP = "viridis"
#: Colour of review items.
ITEM_COLOUR = "#d62728"
#: At most this many detections are drawn; beyond it an evenly spaced subset is shown.
MAX_POINTS = 20_000


class StaticFigure(Figure):
    """A figure that IPython displays as a PNG image (``_repr_png_``), with or without pyplot."""

    def _repr_png_(self) -> bytes:
        return to_png(self)


def to_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _categories(*frames: pd.DataFrame | None) -> list[str]:
    """Top-level categories present in the frames, in taxonomy order (unknown ones last)."""
    present: set[str] = set()
    for frame in frames:
        if frame is not None and len(frame):
            present.update(frame["category"].astype(str).unique().tolist())
    known = [c for c in taxonomy.TOP_LEVEL if c in present]
    return known + sorted(present - set(known))


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def timeline(
    labels: pd.DataFrame,
    *,
    flagged: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    duration_ms: int | None = None,
    title: str | None = None,
) -> StaticFigure:
    """The video's time on x, one row per top-level category, detections coloured by confidence.

    Within a category row, level-1 labels sit at the top and level-3 labels at the bottom.
    Review ``items`` are drawn as red boxes over their label's lane; ``flagged`` detections
    get a red edge. TIMESTAMPS rows are points, SEGMENTS rows horizontal bars.
    """
    cats = _categories(labels, items)
    row_of = {c: i for i, c in enumerate(cats)}
    fig = StaticFigure(figsize=(10, 1.4 + 0.55 * max(len(cats), 1)), layout="constrained")
    ax = fig.add_subplot()
    end_s = (duration_ms or _last_ms(labels, items)) / 1000
    norm = Normalize(vmin=50, vmax=100)
    shown = labels
    step = int(np.ceil(len(labels) / MAX_POINTS)) if len(labels) > MAX_POINTS else 1
    if step > 1:
        shown = labels.iloc[::step]
    if len(shown):
        y = _y(shown, row_of)
        start, end = segments.spans(shown)
        conf = shown["confidence"].to_numpy(dtype=float)
        is_flagged = (
            shown.index.isin(flagged.index) if flagged is not None else np.zeros(len(y), bool)
        )
        bars = end > start
        if bars.any():
            ax.hlines(
                y[bars],
                start[bars] / 1000,
                end[bars] / 1000,
                colors=_cmap()(norm(conf[bars])),
                linewidth=5,
            )
        points = ax.scatter(
            start / 1000,
            y,
            c=conf,
            cmap=CMAP,
            norm=norm,
            marker="o",
            s=np.where(bars, 0, 22),
            edgecolors=np.where(is_flagged, ITEM_COLOUR, "none").tolist(),
            linewidths=0.9,
            rasterized=len(shown) > 2000,
            zorder=3,
        )
        fig.colorbar(points, ax=ax, label="confidence (%)", pad=0.01, fraction=0.03)
    if items is not None and len(items):
        lanes = _y(items, row_of)
        pad = end_s / 400
        for item, lane in zip(items.itertuples(), lanes, strict=True):
            if np.isnan(lane):
                continue
            ax.add_patch(
                Rectangle(
                    (item.start_ms / 1000 - pad, lane - 0.12),
                    (item.end_ms - item.start_ms) / 1000 + 2 * pad,
                    0.24,
                    facecolor=ITEM_COLOUR,
                    alpha=0.25,
                    edgecolor=ITEM_COLOUR,
                    linewidth=1.2,
                    zorder=2,
                )
            )
    if items is not None:
        ax.add_patch(Rectangle((0, 0), 0, 0, facecolor=ITEM_COLOUR, alpha=0.3, label="review item"))
        ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
    ax.set_yticks(range(len(cats)), [_short(c) for c in cats])
    ax.set_ylim(max(len(cats), 1) - 0.5, -0.5)
    ax.set_xlim(0, max(end_s, 1))
    ax.set_xlabel("video time (s)")
    ax.grid(axis="x", alpha=0.3)
    counts = f"{len(labels):,} detections"
    if flagged is not None:
        counts += f", {len(flagged):,} flagged"
    if items is not None:
        counts += f", {len(items):,} review items"
    if step > 1:
        counts += f" (1 in {step} detections drawn)"
    ax.set_title(title or f"Moderation labels over time: {counts}", loc="left", fontsize="medium")
    return fig


def _cmap():
    from matplotlib import colormaps

    return colormaps[CMAP]


def _y(frame: pd.DataFrame, row_of: dict[str, int]) -> np.ndarray:
    rows = frame["category"].astype(str).map(row_of).to_numpy(dtype=float)
    level = frame["level"].to_numpy(dtype=float) if "level" in frame else np.full(len(frame), 2.0)
    return rows + (np.clip(level, 1, 3) - 2) * 0.25


def _last_ms(*frames: pd.DataFrame | None) -> int:
    last = 0
    for frame in frames:
        if frame is not None and len(frame):
            last = max(last, int(np.max(segments.spans(frame)[1])))
    return last + 1000


def category_summary(
    labels: pd.DataFrame,
    flagged: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    *,
    title: str | None = None,
) -> StaticFigure:
    """Per top-level category: detections, flagged detections and review items (bars)."""
    cats = _categories(labels, items)
    series = {"detections": labels}
    if flagged is not None:
        series["flagged"] = flagged
    if items is not None:
        series["review items"] = items
    counts = pd.DataFrame(
        {
            name: frame["category"].astype(str).value_counts().reindex(cats, fill_value=0)
            for name, frame in series.items()
        },
        index=cats,
    )
    fig = StaticFigure(figsize=(10, 1.2 + 0.6 * max(len(cats), 1)), layout="constrained")
    ax = fig.add_subplot()
    height = 0.8 / len(series)
    colours = {"detections": "#9aa5b1", "flagged": "#f2a541", "review items": ITEM_COLOUR}
    for k, name in enumerate(series):
        y = np.arange(len(cats)) - 0.4 + height * (k + 0.5)
        bars = ax.barh(y, counts[name], height=height, color=colours[name], label=name)
        ax.bar_label(bars, padding=2, fontsize="x-small")
    ax.set_yticks(range(len(cats)), [_short(c) for c in cats])
    ax.set_ylim(max(len(cats), 1) - 0.5, -0.5)
    ax.set_xlabel("count")
    ax.margins(x=0.08)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(title or "Per category", loc="left", fontsize="medium")
    return fig
