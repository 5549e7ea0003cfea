"""Fixtures of the learning tests (helpers in ``learn_support.py``)."""

from __future__ import annotations

import pytest
from learn_support import frame


@pytest.fixture
def make_frame():
    return frame
