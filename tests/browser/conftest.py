"""Real Chromium for browser tests, driven by Playwright.

The browser is Debian's ``chromium`` (``make test`` installs it when missing), or the one named
by ``VMK_CHROMIUM``, or, on a machine where ``playwright install chromium`` was run, Playwright's
own. Screenshots and other artifacts go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: Flags that keep headless Chromium off the network and quiet on a closed machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_executable() -> str | None:
    """Path of the Chromium to use; None means Playwright's own download."""
    for candidate in (os.environ.get("VMK_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(
                executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
            )
        except Exception as err:  # the message says how to get a browser
            pytest.fail(
                f"Cannot start Chromium ({err}). Install Debian's chromium "
                "(apt-get install chromium), set VMK_CHROMIUM, or run `playwright install "
                "chromium`.",
                pytrace=False,
            )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    # Playwright evaluates a string given to wait_for_function with eval() while it polls, which
    # the pages' Content-Security-Policy forbids; test_cross_site.py drives the pages with their
    # CSP in force (and fails on any CSP violation).
    context = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def preview_server():
    """``preview_server(task_input, template=None)``: a local preview of the reviewer's page.

    The input's video URI is served from the kit's sample video (H.264, 54 s, 25 fps, timecode
    on screen), with HTTP Range support.
    """
    from helpers import preview

    servers = []

    def start(task_input, template=None):
        uri = task_input.get("video", {}).get("s3_uri")
        media = {uri: preview.SAMPLE_VIDEO} if isinstance(uri, str) else {}
        server = preview.serve(task_input, media, template=template)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def dialogs(page):
    """Messages of every JavaScript dialog (alert, confirm, prompt) the page opens."""
    seen: list[str] = []

    def record(dialog):
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return seen
