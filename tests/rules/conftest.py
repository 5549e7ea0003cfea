"""Shared data for the rules, segments, payload and tuner tests: the sample video's labels."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.moderation import LABEL_COLUMNS

DATA = Path(__file__).resolve().parent / "data"
SAMPLE_LABELS = DATA / "sample-labels.json"


def load_sample_labels(mode: str = "TIMESTAMPS") -> pd.DataFrame:
    """The sample video's labels as :func:`helpers.moderation.fetch_labels` returns them."""
    doc = json.loads(SAMPLE_LABELS.read_text())[mode]
    frame = pd.DataFrame(doc["rows"], columns=LABEL_COLUMNS)
    frame.attrs.update(doc["attrs"])
    return frame


@pytest.fixture
def sample_labels() -> pd.DataFrame:
    return load_sample_labels("TIMESTAMPS")


@pytest.fixture
def sample_segments() -> pd.DataFrame:
    return load_sample_labels("SEGMENTS")
