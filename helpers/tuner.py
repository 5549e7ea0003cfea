"""Tune the rules and see what a reviewer would get: live in a widget, or with one call.

:func:`tune` is a pure function: labels, a rule set and a gap tolerance in; the flagged
detections, the review items, the funnel from detections to items, the estimated cost and a
timeline figure out. :class:`RuleTuner` is a thin ipywidgets layer over it (category picker,
one confidence slider per category, gap tolerance) that calls :func:`tune` on every change and
returns the rule set you chose (``tuner.rules``). Running a notebook headless (make demo, CI)
calls :func:`tune` with the parameters' rule set and gets exactly what the untouched widget
shows.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helpers import checks, pricing, review, segments, taxonomy
from helpers.errors import KitError
from helpers.rules import RuleSet, apply_rules, decisions

#: Stand-in video address for estimating the size of a loop's input before the upload is known.
_ESTIMATE_URI = "s3://sagemaker-region-123456789012/video-moderation-kit/run/video.mp4"
#: Threshold a newly picked category starts at when no rule covers it yet.
DEFAULT_THRESHOLD = 80.0
_SLIDER_STYLE = {"description_width": "13em"}
#: The widget's tables (JupyterLab styles rendered DataFrames, not HTML inside widgets).
_CSS = """<style>
.vmk-tuner table {border-collapse: collapse; font-size: 12px; margin: 0.3em 0;}
.vmk-tuner th, .vmk-tuner td {padding: 2px 8px; text-align: right; border-bottom: 1px solid #ddd;
  white-space: nowrap;}
.vmk-cost {margin-left: 2em;}
.vmk-tuner th {background: #f3f3f3;}
.vmk-tuner td:first-child, .vmk-tuner th:first-child {text-align: left;}
</style>"""


@dataclass(frozen=True, eq=False)
class TuneResult:
    """What a rule set does to one video's labels (see :func:`tune`)."""

    rules: RuleSet
    gap_ms: int
    detections: int
    flagged: pd.DataFrame
    items: pd.DataFrame
    loops: int
    duration_ms: int
    cost: pd.DataFrame
    figure: Any = None

    @property
    def funnel(self) -> pd.DataFrame:
        """Detections → flagged → review items → human loops, with each stage's share."""
        counts = [self.detections, len(self.flagged), len(self.items), self.loops]
        stages = ["detections", "flagged by the rules", "review items", "human loops"]
        share = [round(100 * c / self.detections, 1) if self.detections else 0.0 for c in counts]
        return pd.DataFrame({"stage": stages, "count": counts, "% of detections": share})

    def summary(self) -> str:
        """One line, e.g. ``245 detections → 28 flagged → 5 review items (49× fewer)``."""
        return reduction_line(self.detections, len(self.flagged), len(self.items))

    def table(self, max_rows: int | None = None) -> pd.DataFrame:
        """The review items for people: times in seconds, without the row lists."""
        items = self.items if max_rows is None else self.items.head(max_rows)
        return pd.DataFrame(
            {
                "id": items["id"],
                "label": items["label"],
                "category": items["category"],
                "rule": items["rule"],
                "from_s": (items["start_ms"] / 1000).round(2),
                "to_s": (items["end_ms"] / 1000).round(2),
                "peak_confidence": items["confidence"],
                "detections": items["detections"],
            }
        )

    def __repr__(self) -> str:
        return f"TuneResult({self.rules.name}, gap {self.gap_ms} ms: {self.summary()})"


def reduction_line(detections: int, flagged: int, items: int) -> str:
    """``245 detections → 28 flagged → 5 review items (49× fewer)``."""
    line = f"{detections:,} detections → {flagged:,} flagged → {items:,} review items"
    if not items:
        return f"{line} (nothing to review)"
    factor = detections / items
    return f"{line} ({factor:.0f}× fewer)" if factor >= 10 else f"{line} ({factor:.1f}× fewer)"


def video_duration_ms(labels: pd.DataFrame) -> int:
    """The video's duration: from the labels' VideoMetadata, else the last detection's end."""
    duration = (labels.attrs.get("video") or {}).get("DurationMillis")
    if duration:
        return int(duration)
    if labels.empty:
        return 0
    return int(np.max(segments.spans(labels)[1]))


def count_loops(items: pd.DataFrame, duration_ms: int, rules_name: str = "rules") -> int:
    """How many human loops the items need (one unless A2I's input limit splits them)."""
    if items.empty:
        return 0
    docs = review.plan_loop_inputs(
        items,
        video_s3_uri=_ESTIMATE_URI,
        title="",
        duration_ms=duration_ms,
        rules_name=rules_name,
    )
    return len(docs)


def cost_table(duration_ms: int, loops: int, reviewers_per_loop: int = 1) -> pd.DataFrame:
    """A2I per reviewed object, a total, and the price date, in dollars.

    Rekognition's row shows the video's minutes at no cost: notebook 2 billed them already.
    """
    frame = pricing.estimate(
        duration_ms, loops=loops, reviewers_per_loop=reviewers_per_loop, moderated=True
    )
    frame["prices_read_on"] = frame.attrs["read_on"]
    return frame


def tune(
    labels: pd.DataFrame,
    rules: RuleSet,
    gap_ms: int = 1500,
    *,
    duration_ms: int | None = None,
    reviewers_per_loop: int = 1,
    plot: bool = True,
) -> TuneResult:
    """Apply ``rules`` to ``labels`` and merge the flagged detections into review items.

    Returns the flagged detections, the items, the funnel, the estimated cost (Rekognition for
    the video's minutes, A2I for each loop and reviewer) and, with ``plot``, a timeline figure.
    The headless twin of :class:`RuleTuner`.
    """
    gap_ms = checks.duration_ms(gap_ms, "gap_ms")  # "1500", -1500, NaN: refused, with the fix
    flagged = apply_rules(labels, rules)
    items = segments.review_items(flagged, int(gap_ms))
    duration = int(duration_ms or video_duration_ms(labels))
    loops = count_loops(items, duration, rules.name)
    figure = None
    if plot:
        from helpers import plots

        figure = plots.timeline(labels, flagged=flagged, items=items, duration_ms=duration)
    return TuneResult(
        rules=rules,
        gap_ms=int(gap_ms),
        detections=len(labels),
        flagged=flagged,
        items=items,
        loops=loops,
        duration_ms=duration,
        cost=cost_table(duration, loops, reviewers_per_loop),
        figure=figure,
    )


# --- the widget --------------------------------------------------------------------------------


def picker_options() -> list[tuple[str, str]]:
    """(shown text, v7 name) of every taxonomy label, indented by level, in taxonomy order."""
    out = []
    for name in taxonomy.NAMES:
        level = 1 if name in taxonomy.TOP_LEVEL else taxonomy.level(name)
        out.append(("\u2003" * (level - 1) + name, name))
    return out


class RuleTuner:
    """A rule tuner for notebooks: pick categories, move sliders, watch the review shrink.

    ``tuner.rules`` is the rule set you chose and ``tuner.gap_ms`` the gap tolerance;
    ``tuner.result`` is the latest :class:`TuneResult`. Display the tuner (end a cell on it)
    to get the controls; every change calls :func:`tune` and redraws the items table, the
    funnel, the cost and the timeline.
    """

    def __init__(
        self,
        labels: pd.DataFrame,
        rules: RuleSet,
        gap_ms: int = 1500,
        *,
        duration_ms: int | None = None,
        reviewers_per_loop: int = 1,
        max_rows: int = 50,
    ) -> None:
        import ipywidgets as w

        gap_ms = checks.duration_ms(gap_ms, "gap_ms")
        self._w = w
        self.labels = labels
        self.base = rules
        self.duration_ms = int(duration_ms or video_duration_ms(labels))
        self.reviewers_per_loop = reviewers_per_loop
        self.max_rows = max_rows
        self.result: TuneResult | None = None
        self.picker = w.SelectMultiple(
            options=picker_options(),
            value=tuple(n for n in taxonomy.NAMES if n in rules.categories),
            rows=14,
            description="Categories",
            style={"description_width": "initial"},
            layout=w.Layout(width="22em", flex="0 0 auto"),
        )
        self.gap = w.IntSlider(
            value=int(gap_ms),
            min=0,
            max=max(10_000, int(gap_ms)),
            step=100,
            description="Gap tolerance (ms)",
            continuous_update=False,
            style=_SLIDER_STYLE,
            layout=w.Layout(width="98%"),
        )
        self.sliders: dict[str, Any] = {}
        self.slider_box = w.VBox(layout=w.Layout(width="100%"))
        self.status = w.HTML()
        self.funnel_html = w.HTML()
        self.cost_html = w.HTML()
        self.table_html = w.HTML(layout=w.Layout(overflow="auto"))
        self.plot = w.Image(format="svg+xml", layout=w.Layout(max_width="100%"))
        for widget, name in (
            (self.picker, "vmk-picker"),
            (self.gap, "vmk-gap"),
            (self.status, "vmk-status"),
            (self.funnel_html, "vmk-funnel"),
            (self.cost_html, "vmk-cost"),
            (self.table_html, "vmk-items"),
            (self.plot, "vmk-timeline"),
        ):
            widget.add_class(name)
        self._sync_sliders(rules.categories)
        self.picker.observe(self._on_pick, names="value")
        self.gap.observe(self._refresh, names="value")
        controls = w.VBox([self.gap, self.slider_box], layout=w.Layout(flex="1 1 auto"))
        self.widget = w.VBox(
            [
                w.HTML(_CSS),
                w.HBox([self.picker, controls]),
                self.status,
                w.HBox([self.funnel_html, self.cost_html]),
                self.plot,
                self.table_html,
            ]
        )
        self.widget.add_class("vmk-tuner")
        self._refresh()

    # the choice ---------------------------------------------------------------------------

    @property
    def rules(self) -> RuleSet:
        """The rule set the controls describe (the starting one while nothing was changed)."""
        picked = set(self.picker.value)
        # one order everywhere: the rule file's order, then added categories in taxonomy order
        order = [n for n in self.base.categories if n in picked]
        order += [n for n in self.picker.value if n not in self.base.categories]
        return self.base.with_categories({n: float(self.sliders[n].value) for n in order})

    @property
    def gap_ms(self) -> int:
        """The gap tolerance the control describes."""
        return int(self.gap.value)

    # events -------------------------------------------------------------------------------

    def _default_threshold(self, name: str) -> float:
        current = {n: float(s.value) for n, s in self.sliders.items() if n in self.picker.value}
        try:
            covering = decisions(self.base.with_categories(current)).get(name)
        except KitError:  # the picked set is not valid (yet): the status line says why
            covering = None
        if covering and not np.isnan(covering[1]):
            return covering[1]
        return float(self.base.categories.get(name, DEFAULT_THRESHOLD))

    def _sync_sliders(self, values: dict[str, float] | None = None) -> None:
        values = values or {}
        for name in self.picker.value:
            if name not in self.sliders:
                slider = self._w.FloatSlider(
                    value=float(values.get(name, self._default_threshold(name))),
                    min=0,
                    max=100,
                    step=1,
                    description=name,
                    readout_format=".0f",
                    continuous_update=False,
                    style=_SLIDER_STYLE,
                    layout=self._w.Layout(width="98%"),
                )
                slider.add_class("vmk-threshold")
                slider.observe(self._refresh, names="value")
                self.sliders[name] = slider
        self.slider_box.children = [self.sliders[n] for n in self.picker.value]

    def _on_pick(self, _change: Any = None) -> None:
        self._sync_sliders()
        self._refresh()

    def _refresh(self, _change: Any = None) -> None:
        try:
            result = tune(
                self.labels,
                self.rules,
                self.gap_ms,
                duration_ms=self.duration_ms,
                reviewers_per_loop=self.reviewers_per_loop,
            )
        except KitError as err:
            self.status.value = f'<p style="color:#b00020">{html.escape(str(err))}</p>'
            return
        self.result = result
        self.status.value = f"<p><b>{html.escape(result.rules.name)}</b>: {result.summary()}</p>"
        self.funnel_html.value = result.funnel.to_html(index=False, border=0)
        note = html.escape(result.cost.attrs.get("note", ""))
        self.cost_html.value = (
            result.cost.drop(columns="prices_read_on").to_html(index=False, border=0)
            + f"<p><small>Estimate. {note}</small></p>"
        )
        shown = result.table(self.max_rows)
        more = len(result.items) - len(shown)
        self.table_html.value = (
            f"<p>{len(result.items)} review items</p>"
            + shown.to_html(index=False, border=0)
            + (f"<p>… and {more} more</p>" if more > 0 else "")
        )
        self.plot.value = result.figure.to_svg()

    # display ------------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        summary = self.result.summary() if self.result else "not computed"
        return (
            f"RuleTuner({self.rules.name}: {len(self.picker.value)} categories, "
            f"gap {self.gap_ms} ms: {summary})"
        )
