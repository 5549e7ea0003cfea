"""Static figures of the moderation labels: a timeline of the video and a per-category summary.

The figures are small SVG documents written directly (no plotting library): they display in
notebooks (``_repr_svg_``), stay sharp at any zoom, survive in executed notebooks and cost
nothing to import. A 6-hour video's 100,000+ detections are drawn as runs of pixels of the same
colour, so a figure stays a few hundred kilobytes at most.

Every drawn element carries a class (``detection``, ``item``, ``bar``, ``lane``) and a
``data-*`` attribute with what it stands for, so a figure can be checked as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

from helpers import segments, taxonomy

#: Colour of review items.
ITEM_COLOUR = "#d62728"
#: viridis at 0, 0.1, ..., 1: detection confidence from 50 % (dark) to 100 % (yellow).
CONFIDENCE_COLOURS = (
    *("#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c"),
    *("#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725"),
)
CONFIDENCE_RANGE = (50.0, 100.0)
SERIES_COLOURS = {"detections": "#9aa5b1", "flagged": "#f2a541", "review items": ITEM_COLOUR}

WIDTH = 960
_LEFT, _RIGHT, _TOP, _BOTTOM = 190, 70, 34, 40
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12"'


@dataclass
class SvgFigure:
    """An SVG figure; notebooks show it as an image (``_repr_svg_``)."""

    svg: str
    title: str
    width: int
    height: int
    #: What the figure shows, for tests and captions (counts, drawn runs, lanes).
    info: dict[str, object] = field(default_factory=dict)
    #: The figure's alternative text: what a person who cannot see it should know.
    alt: str = ""

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        """The SVG (which carries the alternative text) and the text itself as plain text."""
        return {"image/svg+xml": self.svg, "text/plain": self.alt or self.title}

    def to_svg(self) -> bytes:
        """The figure as UTF-8 SVG bytes (for files and image widgets)."""
        return self.svg.encode()

    def __repr__(self) -> str:
        return f"<SvgFigure {self.width}×{self.height}: {self.title}>"


def _categories(*frames: pd.DataFrame | None) -> list[str]:
    """Top-level categories present in the frames, in taxonomy order (unknown ones last)."""
    present: set[str] = set()
    for frame in frames:
        if frame is not None and len(frame):
            present.update(frame["category"].astype(str).unique().tolist())
    known = [c for c in taxonomy.TOP_LEVEL if c in present]
    return known + sorted(present - set(known))


def _wrap(name: str, width: int = 26) -> list[str]:
    """A category name in lines of at most about ``width`` characters (whole words kept)."""
    import textwrap

    return textwrap.wrap(name, width, break_long_words=False) or [name]


def _label(name: str, x: float, middle: float) -> str:
    """A right-aligned category name centred on ``middle``, wrapped over lines, never cut."""
    lines = _wrap(name)
    size = 12 if len(lines) == 1 else 11
    first = middle + 4 - (len(lines) - 1) * size / 2
    spans = "".join(
        f'<tspan x="{_num(x)}" y="{_num(first + k * size)}">{escape(line)}</tspan>'
        for k, line in enumerate(lines)
    )
    return f'<text text-anchor="end" font-size="{size}">{spans}</text>'


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _document(width: int, height: int, title: str, body: list[str], alt: str = "") -> str:
    alt = alt or title
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {_FONT} role="img" aria-label="{escape(alt)}">'
        f"<title>{escape(title)}</title><desc>{escape(alt)}</desc>"
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f'<text x="8" y="20" font-size="14">{escape(title)}</text>' + "".join(body) + "</svg>"
    )


def _per_category(counts: pd.Series) -> str:
    """``Alcohol 68, Violence 35`` (largest first), for alternative texts."""
    ordered = counts[counts > 0].sort_values(ascending=False, kind="stable")
    return ", ".join(f"{cat} {int(n):,}" for cat, n in ordered.items()) or "none"


def _clock(seconds: float) -> str:
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _time_ticks(end_s: float) -> list[float]:
    """Round ticks from 0, and the end itself (the axis ends at the video's duration)."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if end_s / step <= 10:
            ticks = [float(t) for t in np.arange(0, end_s + 1e-9, step)]
            break
    else:
        ticks = [float(t) for t in np.linspace(0, end_s, 6)]
    if end_s - ticks[-1] < 0.4 * (ticks[1] - ticks[0] if len(ticks) > 1 else end_s):
        ticks = ticks[:-1]  # too close to the end's own tick to be read
    return [*ticks, float(end_s)]


def _count_ticks(top: int) -> list[int]:
    """Round numbers from 0 to at most ``top`` for a count axis (about five of them)."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000):
        if top / step <= 6:
            return list(range(0, top + 1, step))
    step = 10 ** (len(str(top)) - 1)
    return list(range(0, top + 1, step))


def _confidence_bucket(conf: np.ndarray) -> np.ndarray:
    low, high = CONFIDENCE_RANGE
    scaled = (np.nan_to_num(conf, nan=low) - low) / (high - low)
    return np.clip(np.round(scaled * 10), 0, 10).astype(int)


def _columns(
    first: np.ndarray, last: np.ndarray, colour: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel column from ``first`` to ``last`` (exclusive) of each mark, with its colour."""
    lengths = last - first
    starts = np.repeat(first - np.cumsum(lengths) + lengths, lengths)
    return starts + np.arange(int(lengths.sum())), np.repeat(colour, lengths)


def _runs(columns: np.ndarray, colours: np.ndarray) -> list[tuple[int, int, int]]:
    """(first column, last column, colour) runs over sorted unique (column, colour) pairs."""
    runs: list[tuple[int, int, int]] = []
    for col, colour in zip(columns.tolist(), colours.tolist(), strict=True):
        if runs and runs[-1][2] == colour and runs[-1][1] >= col - 1:
            runs[-1] = (runs[-1][0], max(runs[-1][1], col), colour)
        else:
            runs.append((col, col, colour))
    return runs


def timeline(
    labels: pd.DataFrame,
    *,
    flagged: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    duration_ms: int | None = None,
    title: str | None = None,
) -> SvgFigure:
    """The video's time on x, one lane per top-level category, detections coloured by confidence.

    Within a lane, level-1 labels sit at the top and level-3 labels at the bottom. Moments
    (TIMESTAMPS) are short ticks, segments (SEGMENTS) bars over their span; ``flagged``
    detections are drawn with a red edge, and review ``items`` as red boxes over their lane.
    Detections that fall on the same pixel with the same colour are drawn once.
    """
    cats = _categories(labels, items)
    row_of = {c: i for i, c in enumerate(cats)}
    lane_h = 36
    height = _TOP + lane_h * max(len(cats), 1) + _BOTTOM
    plot_w = WIDTH - _LEFT - _RIGHT
    known = (labels.attrs.get("video") or {}).get("DurationMillis")
    end_s = max((duration_ms or known or _last_ms(labels, items)) / 1000, 1.0)

    def x(seconds: np.ndarray | float) -> np.ndarray:
        return _LEFT + np.asarray(seconds, dtype=float) / end_s * plot_w

    body: list[str] = []
    for cat, row in row_of.items():
        top = _TOP + row * lane_h
        shade = "#f6f8fa" if row % 2 == 0 else "#fff"
        body.append(
            f'<rect class="lane" data-category="{escape(cat)}" x="{_LEFT}" y="{top}" '
            f'width="{plot_w}" height="{lane_h}" fill="{shade}"/>'
            + _label(cat, _LEFT - 6, top + lane_h / 2)
        )
    axis_y = _TOP + lane_h * max(len(cats), 1)
    for t in _time_ticks(end_s):
        px = _num(float(x(t)))
        body.append(
            f'<line x1="{px}" x2="{px}" y1="{_TOP}" y2="{axis_y}" stroke="#d0d7de" '
            f'stroke-width="0.6"/><text x="{px}" y="{axis_y + 14}" text-anchor="middle">'
            f"{_clock(t)}</text>"
        )
    body.append(
        f'<text x="{_LEFT + plot_w / 2}" y="{height - 6}" text-anchor="middle">video time</text>'
    )
    runs = 0
    if len(labels):
        sub = _sub_rows(labels, row_of)
        start, end = segments.spans(labels)
        bucket = _confidence_bucket(labels["confidence"].to_numpy(dtype=float))
        marked = (
            labels.index.isin(flagged.index) if flagged is not None else np.zeros(len(sub), bool)
        )
        first = np.floor(x(start / 1000)).astype(int)
        last = np.maximum(np.floor(x(end / 1000)).astype(int), first + 2)
        frame = pd.DataFrame(
            {"sub": sub, "first": first, "last": last, "colour": bucket, "flagged": marked}
        )
        for (row, is_flagged), group in frame.groupby(["sub", "flagged"], sort=True):
            # expand each detection to the pixel columns it covers, keep one colour per column
            cols, colours = _columns(
                group["first"].to_numpy(), group["last"].to_numpy(), group["colour"].to_numpy()
            )
            order = np.lexsort((-colours, cols))
            cols, colours = cols[order], colours[order]
            keep = np.r_[True, cols[1:] != cols[:-1]]
            y = _TOP + (row // 3) * lane_h + 7 + (row % 3) * 8
            edge = f' stroke="{ITEM_COLOUR}" stroke-width="1"' if is_flagged else ""
            for c0, c1, colour in _runs(cols[keep], colours[keep]):
                body.append(
                    f'<rect class="detection" data-flagged="{str(is_flagged).lower()}" '
                    f'x="{c0}" y="{y}" width="{c1 - c0 + 1}" height="6" '
                    f'fill="{CONFIDENCE_COLOURS[colour]}"{edge}/>'
                )
                runs += 1
    boxes = 0
    if items is not None and len(items):
        lanes = _sub_rows(items, row_of)
        for item, row in zip(items.itertuples(), lanes, strict=True):
            x0 = float(x(item.start_ms / 1000)) - 3
            x1 = float(x(item.end_ms / 1000)) + 3
            y = _TOP + (row // 3) * lane_h + 4 + (row % 3) * 8
            body.append(
                f'<rect class="item" data-id="{escape(str(getattr(item, "id", "")))}" '
                f'x="{_num(x0)}" y="{y}" width="{_num(max(x1 - x0, 6))}" height="12" '
                f'fill="{ITEM_COLOUR}" fill-opacity="0.25" stroke="{ITEM_COLOUR}" '
                f'stroke-width="1.2"/>'
            )
            boxes += 1
    body.extend(_confidence_legend(axis_y))
    if items is not None:
        body.append(
            f'<rect x="{WIDTH - 260}" y="8" width="14" height="10" fill="{ITEM_COLOUR}" '
            f'fill-opacity="0.3" stroke="{ITEM_COLOUR}"/>'
            f'<text x="{WIDTH - 240}" y="17">review item</text>'
        )
    counts = f"{len(labels):,} detections"
    if flagged is not None:
        counts += f", {len(flagged):,} flagged"
    if items is not None:
        counts += f", {len(items):,} review items"
    text = title or f"Moderation labels over time: {counts}"
    info = {"lanes": cats, "runs": runs, "items": boxes, "end_s": end_s}
    per = labels["category"].astype(str).value_counts() if len(labels) else pd.Series(dtype=int)
    alt = (
        f"Timeline of {counts} over the video's {_clock(end_s)}, one row per top-level "
        f"category; detections per category: {_per_category(per)}."
    )
    if items is not None and len(items):
        spans = "; ".join(
            f"{i.label} {_clock(i.start_ms / 1000)}–{_clock(i.end_ms / 1000)}"
            for i in items.head(10).itertuples()
        )
        alt += f" Review items: {spans}{' and more' if len(items) > 10 else ''}."
    return SvgFigure(_document(WIDTH, height, text, body, alt), text, WIDTH, height, info, alt)


def _confidence_legend(axis_y: int) -> list[str]:
    x0 = WIDTH - _RIGHT + 14
    step = (axis_y - _TOP) / len(CONFIDENCE_COLOURS)
    parts = ['<g class="legend">']
    for k, colour in enumerate(reversed(CONFIDENCE_COLOURS)):
        parts.append(
            f'<rect x="{x0}" y="{_num(_TOP + k * step)}" width="12" height="{_num(step + 0.5)}" '
            f'fill="{colour}"/>'
        )
    low, high = CONFIDENCE_RANGE
    parts.append(
        f'<text x="{x0 + 16}" y="{_TOP + 10}">{high:.0f}</text>'
        f'<text x="{x0 + 16}" y="{axis_y}">{low:.0f}</text>'
        f'<text x="{x0 - 2}" y="{_TOP - 6}" font-size="10">conf. %</text></g>'
    )
    return parts


def _sub_rows(frame: pd.DataFrame, row_of: dict[str, int]) -> np.ndarray:
    """Lane × 3 + level row (levels 1 to 3 stack top to bottom in a lane)."""
    rows = frame["category"].astype(str).map(row_of).fillna(0).to_numpy(dtype=int)
    level = frame["level"].to_numpy(dtype=float) if "level" in frame else np.full(len(frame), 2.0)
    return rows * 3 + (np.clip(np.nan_to_num(level, nan=2.0), 1, 3).astype(int) - 1)


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
) -> SvgFigure:
    """Per top-level category: detections, flagged detections and review items (bars)."""
    cats = _categories(labels, items)
    series = {"detections": labels}
    if flagged is not None:
        series["flagged"] = flagged
    if items is not None:
        series["review items"] = items
    counts = {
        name: frame["category"].astype(str).value_counts().reindex(cats, fill_value=0)
        for name, frame in series.items()
    }
    group_h = 12 * len(series) + 14
    height = _TOP + group_h * max(len(cats), 1) + _BOTTOM
    plot_w = WIDTH - _LEFT - _RIGHT - 40
    top_count = max([int(c.max()) for c in counts.values() if len(c)] + [1])
    body: list[str] = []
    for row, cat in enumerate(cats):
        top = _TOP + row * group_h
        body.append(_label(cat, _LEFT - 6, top + group_h / 2))
        for k, name in enumerate(series):
            value = int(counts[name][cat])
            width = value / top_count * plot_w
            y = top + 7 + 12 * k
            body.append(
                f'<rect class="bar" data-series="{name}" data-category="{escape(cat)}" '
                f'data-count="{value}" x="{_LEFT}" y="{y}" width="{_num(width)}" height="11" '
                f'fill="{SERIES_COLOURS[name]}"/><text x="{_num(_LEFT + width + 4)}" '
                f'y="{y + 9}" font-size="10">{value:,}</text>'
            )
    axis_y = _TOP + group_h * max(len(cats), 1)
    body.append(
        f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{axis_y}" stroke="#57606a"/>'
        f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{axis_y}" y2="{axis_y}" stroke="#57606a"/>'
        f'<text x="{_LEFT + plot_w / 2}" y="{height - 6}" text-anchor="middle">'
        f"{'detections' if len(series) == 1 else 'count'} per category</text>"
    )
    for tick in _count_ticks(top_count):
        px = _num(_LEFT + tick / top_count * plot_w)
        body.append(
            f'<line class="tick" x1="{px}" x2="{px}" y1="{axis_y}" y2="{axis_y + 4}" '
            f'stroke="#57606a"/><text x="{px}" y="{axis_y + 16}" text-anchor="middle" '
            f'font-size="10">{tick:,}</text>'
        )
    for k, name in enumerate(series):
        lx = WIDTH - 330 + 110 * k
        body.append(
            f'<rect x="{lx}" y="8" width="14" height="10" fill="{SERIES_COLOURS[name]}"/>'
            f'<text x="{lx + 18}" y="17">{name}</text>'
        )
    text = title or "Per category"
    info = {"categories": cats, "counts": {n: c.astype(int).tolist() for n, c in counts.items()}}
    alt = "Bar chart per top-level category. " + " ".join(
        f"{name.capitalize()}: {_per_category(c)}." for name, c in counts.items()
    )
    return SvgFigure(_document(WIDTH, height, text, body, alt), text, WIDTH, height, info, alt)
