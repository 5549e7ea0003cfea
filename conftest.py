"""Test harness for the notebooks: one offline stand-in per pytest session.

When pytest runs notebooks (``--nbval``/``--nbval-lax``), this starts the kit's offline
stand-in for AWS and points every kernel at it through the environment. It must happen in
``pytest_configure``: nbval starts kernels before any fixture runs, and a kernel without this
environment would use the developer's real AWS credentials.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import pytest

_RELIABILITY = pytest.StashKey[Counter]()

_server = None


def _running_notebooks(config) -> bool:
    return bool(
        getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False)
    )


def pytest_configure(config):
    global _server
    if not _running_notebooks(config):
        return
    from helpers import offline
    from helpers.demo import kernel_environment, point_at

    settings = offline.OfflineSettings(job_seconds=1.0, auto_review="mixed")
    _server = offline.start_server(settings, port=0)
    point_at(kernel_environment(_server.env, Path(tempfile.mkdtemp(prefix="vmk-nbtest-"))))


@pytest.fixture
def use_stand_in(monkeypatch, tmp_path):
    """Point this process's boto3 at a running stand-in server, for one test.

    The same environment the notebook kernels get (``helpers.demo.kernel_environment``): the
    offline identity and endpoint, empty AWS config files, no profile; undone after the test.
    """
    from helpers.demo import kernel_environment

    def use(server):
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in kernel_environment(server.env, tmp_path / "aws-env").items():
            monkeypatch.setenv(name, value)
        return server

    return use


@pytest.fixture(scope="session")
def reliability(pytestconfig) -> Counter:
    """Counts for the run's reliability summary (printed at the end of the test run)."""
    return pytestconfig.stash.setdefault(_RELIABILITY, Counter())


def pytest_terminal_summary(terminalreporter, config):
    counts = config.stash.get(_RELIABILITY, None)
    if not counts:
        return
    terminalreporter.section("reliability summary")
    for key in (
        "faults injected",
        "errors surfaced",
        "resources left",
        "bad inputs rejected",
        "cross-site requests refused",
        "uploaded pages kept from running",
    ):
        terminalreporter.write_line(f"{key:>32}: {counts.get(key, 0)}")
    # Counted only when a test adds to them (state files, lost endpoints, clean up's guards).
    for key in ("state faults named", "connection losses named", "resources kept for other runs"):
        if key in counts:
            terminalreporter.write_line(f"{key:>32}: {counts[key]}")


def pytest_unconfigure(config):
    if _server is not None:
        _server.stop()
