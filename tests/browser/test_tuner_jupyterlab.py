"""The rule tuner in a real JupyterLab, in real Chromium: run the cell, move a slider, see the
review items table change.

A JupyterLab server runs in a subprocess on a free local port, with a token and a temporary
root folder that holds a small notebook and the sample video's saved labels (no AWS, no
network). Its configuration, settings, workspaces and runtime files live in that folder too,
so the developer's own Jupyter setup is neither used nor touched. The server and its kernel
are stopped whatever happens; its log is kept beside the screenshot in ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "rules" / "data" / "sample-labels.json"
START_TIMEOUT_S = 60

#: The notebook the test opens: it builds the tuner from the saved labels and shows it.
CELL = """\
import json

import pandas as pd

from helpers import tuner
from helpers.rules import RuleSet

saved = json.loads(open("sample-labels.json").read())["TIMESTAMPS"]
labels = pd.DataFrame(saved["rows"])
labels.attrs.update(saved["attrs"])
rule_tuner = tuner.RuleTuner(labels, RuleSet.load("lab-v7"), gap_ms=1500)
rule_tuner"""

#: JupyterLab user settings: no news or update checks (no network, no toasts over the page).
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_root(root: Path) -> None:
    shutil.copy(FIXTURE, root / "sample-labels.json")
    book = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "tuner",
                "metadata": {},
                "outputs": [],
                "source": CELL,
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / "tuner.ipynb").write_text(json.dumps(book, indent=1))


def _environment(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "JUPYTER", "VMK_")) and k != "IPYTHONDIR"
    }
    for name, rel in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ("IPYTHONDIR", "ipython"),
    ):
        (home / rel).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / rel)
    for rel, value in SETTINGS.items():
        path = home / "settings" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    env["MPLBACKEND"] = "Agg"
    return env


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and its kernel (one process group that this test started)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    # a kernel left behind by a server that died first
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def jupyterlab(tmp_path: Path, artifacts: Path) -> Iterator[str]:
    """A running JupyterLab on a free port; yields the URL of the tuner notebook."""
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    _write_root(root)
    token, port = secrets.token_hex(16), _free_port()
    log_path = artifacts / "tuner-jupyterlab-server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=",
                "--LabApp.extension_manager=readonly",
                *(["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
            ],
            cwd=root,
            env=_environment(home),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kernel stops with it
        )
        try:
            status = f"http://127.0.0.1:{port}/api/status?token={token}"
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"JupyterLab exited with {proc.returncode}; see {log_path}")
                if _answers(status):
                    break
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in {START_TIMEOUT_S} s; see {log_path}")
                time.sleep(0.25)
            yield f"http://127.0.0.1:{port}/lab/tree/tuner.ipynb?token={token}"
        finally:
            _stop(proc)


def _items_rows(page) -> int:
    return page.locator(".vmk-items table tbody tr").count()


def test_moving_a_slider_in_jupyterlab_changes_the_items_table(page, jupyterlab, artifacts):
    page.set_default_timeout(45_000)
    try:
        _run_cell_and_move_slider(page, jupyterlab)
    except BaseException:
        page.screenshot(path=str(artifacts / "tuner-jupyterlab-failure.png"), full_page=True)
        raise
    page.screenshot(path=str(artifacts / "tuner-jupyterlab.png"))


def _run_cell_and_move_slider(page, url: str) -> None:
    page.goto(url)
    cell = page.locator(".jp-NotebookPanel .jp-CodeCell").first
    cell.wait_for()
    # the kernel is up when the status bar says so (the toolbar shows "idle" before it is)
    page.locator(".jp-StatusBar-Widget", has_text="Python 3 (ipykernel) | Idle").wait_for()
    # run the cell as a person does: click into it, Shift+Enter
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    page.locator(".vmk-items table").wait_for()
    before = page.locator(".vmk-items").inner_text()
    assert _items_rows(page) == 5
    assert "Exposed Male Nipple" in before

    # drag the "Exposed Male Nipple" slider's handle to the right end of its track
    slider = page.locator(".vmk-threshold", has_text="Exposed Male Nipple")
    handle = slider.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    track = slider.locator(".noUi-base").bounding_box()
    start = handle.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] + 40, start["y"] + start["height"] / 2, steps=8)
    page.mouse.up()

    page.wait_for_function(
        "() => document.querySelectorAll('.vmk-items table tbody tr').length === 3"
    )
    after = page.locator(".vmk-items").inner_text()
    assert after != before
    assert "Exposed Male Nipple" not in after
    assert slider.locator(".widget-readout").inner_text().strip() == "100"
    assert "lab-v7-tuned" in page.locator(".vmk-status").inner_text()
    page.locator(".vmk-items").scroll_into_view_if_needed()  # for the screenshot
