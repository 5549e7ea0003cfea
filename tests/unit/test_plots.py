"""The figures: axis to the video's end, names wrapped not cut, counts on the axis, alt text."""

import re
from html import escape

import pandas as pd

from helpers import plots

LONG = "Non-Explicit Nudity of Intimate parts and Kissing"


def _labels():
    rows = [
        (1000, "Drinking", "Alcohol Use", 3, "Alcohol", 90.0),
        (2000, "Kissing on the Lips", "Kissing", 3, LONG, 70.0),
        (3000, "Gambling", "", 1, "Gambling", 60.0),
    ]
    frame = pd.DataFrame(
        rows, columns=["timestamp_ms", "label", "parent", "level", "category", "confidence"]
    )
    frame = frame.assign(start_ms=frame.timestamp_ms, end_ms=frame.timestamp_ms, duration_ms=0)
    frame.attrs["video"] = {"DurationMillis": 54_000}
    return frame


def test_timeline_axis_ends_at_the_videos_duration_and_names_wrap():
    figure = plots.timeline(_labels())
    assert figure.info["end_s"] == 54.0
    assert ">0:54<" in figure.svg  # the last tick is the duration, not the last detection
    assert "…" not in figure.svg
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", figure.svg)
    assert " ".join(lines).count("Non-Explicit Nudity of Intimate") == 1
    assert any(line.endswith("Kissing") for line in lines)


def test_bar_chart_has_numbers_on_its_axis():
    figure = plots.category_summary(_labels())
    ticks = re.findall(r'class="tick"', figure.svg)
    assert len(ticks) >= 2
    assert ">0<" in figure.svg


def test_every_figure_has_alternative_text():
    labels = _labels()
    for figure in (plots.timeline(labels), plots.category_summary(labels)):
        assert figure.alt and "Alcohol 1" in figure.alt
        assert f"<desc>{escape(figure.alt)}</desc>" in figure.svg
        assert 'aria-label="' in figure.svg
        assert figure._repr_mimebundle_()["text/plain"] == figure.alt
