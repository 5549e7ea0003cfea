"""Another site open in the same Chromium cannot drive the stand-in, and a bucket object served
by the portal never runs script on the portal's origin.

The hostile page is served by a second local server on another port (another origin, and even
the same *site*, which is the worst case: SameSite cookies do not stop it). It posts a forged
verdict to the portal, changes settings and faults, advances the clock and resets moto, and
tries to read the AWS endpoint with CORS. Chromium sees a 403 for each, and the stand-in's state
is what it was.
"""

from __future__ import annotations

import http.server
import threading
import time

import boto3
import pytest
from moto.core.base_backend import BackendDict
from playwright.sync_api import Error as PlaywrightError
from test_portal import start_loop
from test_reviewer_page import ITEMS, task_input

from helpers.offline import OfflineSettings, faults, guard, portal, start_server
from helpers.offline import settings as offline_settings

HOSTILE = """<!doctype html><html><body>
<form id="forge" method="post" action="{base}{submit}" enctype="text/plain">
<input name='{{"answerContent": {{"review": "forged"}}, "x": "' value='"}}'>
</form>
<script>
window.results = {{}};
const base = "{base}";
async function probe(name, url, init) {{
  try {{
    const answer = await fetch(url, init);
    window.results[name] = answer.type === "opaque" ? "opaque" : answer.status;
  }} catch (err) {{
    window.results[name] = "blocked";
  }}
}}
window.attack = async function () {{
  const text = {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}}}};
  await probe("settings", base + "/_kit/settings",
              {{...text, body: JSON.stringify({{workteam_subdomain: "http://evil.example/"}})}});
  await probe("faults", base + "/_kit/faults", {{...text, body: '{{"fail_jobs": 5}}'}});
  await probe("advance", base + "/_kit/advance", {{...text, body: '{{"seconds": 99999}}'}});
  await probe("reset", base + "/moto-api/reset", {{...text, body: ""}});
  await probe("read", base + "/", {{method: "GET", mode: "cors"}});
  await probe("submit", base + "{submit}", {{...text,
      body: JSON.stringify({{answerContent: {{review: "forged"}}}})}});
  return window.results;
}};
</script></body></html>"""


@pytest.fixture
def stand_in(tmp_path, monkeypatch, use_stand_in):
    settings = OfflineSettings(auto_review="off", job_seconds=0, flow_definition_seconds=0)
    server = start_server(settings, port=0)
    use_stand_in(server)
    try:
        yield server
    finally:
        BackendDict.reset()
        server.stop()


@pytest.fixture
def hostile_site():
    """``hostile_site(html)``: the URL of a page served from another local origin."""
    servers = []

    def serve(document: str) -> str:
        body = document.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def _snapshot(stand_in, a2i, name):
    return {
        "settings": stand_in.settings.to_dict(),
        "faults": faults.active(),
        "loop": a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"],
        "buckets": [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]],
        # how far the stand-in's clock runs ahead of real time, in hours: the attack would
        # advance it by 99,999 s (28 h); real time moving on during the test changes nothing
        "clock lead": round((offline_settings.now().timestamp() - time.time()) / 3600),
    }


@pytest.mark.parametrize("target", ["endpoint", "portal host name"])
def test_another_site_cannot_drive_the_stand_in(stand_in, page, hostile_site, reliability, target):
    """Through the AWS endpoint's address and through the portal's host name (the work team's
    SubDomain, `worker-portal.localhost:<port>`, which reaches the same server)."""
    a2i, name, portal_link = start_loop()
    base = stand_in.endpoint if target == "endpoint" else portal_link
    assert base.startswith("http://127.0.0.1:" if target == "endpoint" else "http://worker-")
    submit = portal.task_path("123456789012", "us-east-1", name) + "/submit"
    before = _snapshot(stand_in, a2i, name)
    refused = guard.REFUSED["cross-site"]
    statuses: dict[str, int] = {}
    page.on("response", lambda r: statuses.__setitem__(r.url, r.status))

    page.goto(hostile_site(HOSTILE.format(base=base, submit=submit)))
    results = page.evaluate("window.attack()")
    # no-cors answers are opaque to the page; Chromium itself saw the 403s
    assert results["read"] == "blocked", "the AWS endpoint must not answer another origin"
    for path in ("/_kit/settings", "/_kit/faults", "/_kit/advance", "/moto-api/reset", submit):
        assert statuses[base + path] == 403, (path, statuses)

    # a plain form post (no script at all) with a forged verdict
    with page.expect_navigation() as navigation:
        page.evaluate("document.getElementById('forge').submit()")
    assert navigation.value.status == 403

    assert _snapshot(stand_in, a2i, name) == before
    assert stand_in.settings.workteam_subdomain == stand_in.portal_host
    count = guard.REFUSED["cross-site"] - refused
    assert count >= 7
    reliability["cross-site requests refused"] += count


PAYLOAD = (
    "<script>localStorage.setItem('pwned', '1');new Image().src = '/_portal/pwned-beacon';</script>"
)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg"><script>'
    "localStorage.setItem('pwned', '1'); new Image().src = '/_portal/pwned-beacon';"
    "</script></svg>"
)


def _opens_without_script(context, portal_url, url) -> bool:
    """Open ``url`` in a new tab of ``context``; True when no script of it ran."""
    beacons: list[str] = []
    context.on("request", lambda r: beacons.append(r.url) if "pwned-beacon" in r.url else None)
    tab = context.new_page()
    try:
        tab.goto(url, wait_until="load", timeout=10_000)
        tab.wait_for_timeout(300)
    except PlaywrightError as error:  # an attachment: Chromium downloads it, nothing runs
        assert "Download" in str(error) or "ERR_ABORTED" in str(error), error
    finally:
        tab.close()
    home = context.new_page()
    home.goto(portal_url)
    stored = home.evaluate("localStorage.getItem('pwned')")
    home.evaluate("localStorage.clear()")
    home.close()
    return stored is None and not beacons


def test_media_html_and_svg_never_run_on_the_portal_origin(stand_in, browser, reliability):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="uploads")
    s3.put_object(Bucket="uploads", Key="x/page.html", Body=PAYLOAD, ContentType="text/html")
    s3.put_object(Bucket="uploads", Key="x/image.svg", Body=SVG, ContentType="image/svg+xml")
    # as the issue found it: an unnamed type (guessed from the file name)
    s3.put_object(Bucket="uploads", Key="x/guess.html", Body=PAYLOAD)
    s3.put_object(Bucket="uploads", Key="x/control.html", Body=PAYLOAD, ContentType="text/html")
    urls = [
        stand_in.endpoint + portal.media_path("123456789012", "uploads", key)
        for key in ("x/page.html", "x/image.svg", "x/guess.html")
    ]
    context = browser.new_context(accept_downloads=True)
    try:
        # the test can see script run: without the kit's headers, the HTML runs
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(guard, "media_headers", lambda kind: {})
            patch.setattr(guard, "page_headers", lambda template=None: {})
            control = urls[0].replace("page.html", "control.html")  # a URL not cached after
            assert not _opens_without_script(context, stand_in.portal_url, control)
        for url in urls:
            assert _opens_without_script(context, stand_in.portal_url, url), url
            reliability["uploaded pages kept from running"] += 1
    finally:
        context.close()


@pytest.fixture
def strict_page(browser):
    """A page with the servers' Content-Security-Policy in force, recording CSP violations."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.violations = []
    page.on(
        "console",
        lambda m: page.violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: page.violations.append(str(e)))
    yield page
    context.close()


def _review_every_item(page):
    page.wait_for_function("() => document.querySelectorAll('#vmk-items tr').length > 0")
    page.wait_for_function("() => (document.getElementById('vmk-video') || {}).readyState >= 2")
    page.click("h2")
    # The first item is selected on load and a verdict moves on to the next item without one.
    for _ in range(len(ITEMS)):
        page.keyboard.press("1")


def test_the_reviewer_page_works_under_the_portal_csp(stand_in, strict_page):
    a2i, name, portal_url = start_loop()
    strict_page.goto(portal_url)
    strict_page.click(f"#portal-tasks a[href$='/{name}']")
    strict_page.wait_for_url(f"**/_portal/tasks/**/{name}")
    _review_every_item(strict_page)
    with strict_page.expect_request("**/submit"):
        strict_page.click("#vmk-submit")
    strict_page.wait_for_url("**/_portal/?submitted=*")
    assert a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] == "Completed"
    assert strict_page.violations == []


def test_the_preview_works_under_its_csp(preview_server, strict_page):
    server = preview_server(task_input())
    strict_page.goto(server.url)
    _review_every_item(strict_page)
    strict_page.click("#vmk-submit")
    strict_page.wait_for_function("() => document.body.innerText.includes('recorded')")
    assert len(server.answers) == 1
    assert strict_page.violations == []
