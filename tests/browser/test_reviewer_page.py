"""The reviewer's page in Chromium, served by the local preview (HTTP Range) with the sample video.

Covers: the video plays (the page's own controls, no native bar over the picture) and an item
click seeks to its time; the keyboard: playback keys, Space on a focused button, `?`, a whole
review with keys only (every verdict kind, a correction through the label picker, a cleared
verdict), the old wrong-category trap, clean accessible names; submit is refused until every
item has a verdict and the answer then follows vmk-review/2; 2,000 items stay usable in the
windowed list (only the rows near its scroll position are in the page); hostile strings in every
input field stay text, in the first rows and in rows built on scroll. A screenshot of the page is
kept in ``test-artifacts/reviewer-page.png``. Drafts, the timeline and thumbnails:
test_reviewer_workbench.py.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from helpers import answers, preview

#: Where the inputs say the sample video is (the preview serves the kit's sample there).
SAMPLE_URI = "s3://vmk-browser-tests/videos/moderation-sample.mp4"
NUDITY = "Non-Explicit Nudity of Intimate parts and Kissing"
SMOKING = "Drugs & Tobacco Paraphernalia & Use"
ITEMS = [
    ("i-toast-drink", "Drinking", "Alcohol Use", "Alcohol", 6200, 11800, 97.3, 12),
    ("i-beach-back", "Bare Back", "Non-Explicit Nudity", NUDITY, 15000, 15000, 71.0, 1),
    ("i-soldier-gun", "Weapons", "Violence", "Violence", 21500, 28400, 99.1, 15),
    ("i-smoke", "Smoking", SMOKING, "Drugs & Tobacco", 30000, 35000, 88.8, 11),
    ("i-poker-bottle", "Alcoholic Beverages", "Alcohol", "Alcohol", 37000, 37000, 64.0, 1),
]


def task_input(items=ITEMS, **video):
    return {
        "schema": answers.INPUT_SCHEMA,
        "video": {
            "title": "Moderation sample",
            "s3_uri": SAMPLE_URI,
            "duration_ms": 54_000,
            **video,
        },
        "items": [
            {
                "id": i,
                "label": label,
                "parent": parent,
                "category": category,
                "start_ms": start,
                "end_ms": end,
                "confidence": confidence,
                "detections": detections,
            }
            for i, label, parent, category, start, end, confidence, detections in items
        ],
        "rules": "lab-v7",
    }


def open_page(page, server):
    page.goto(server.url)
    page.wait_for_function("(document.getElementById('vmk-video') || {}).readyState >= 2")
    page.wait_for_function("!!window.crowdStandIn")
    page.wait_for_function("document.getElementById('vmk').hasAttribute('data-ready')")


def row(page, item_id):
    """The item's row. The list is windowed: only rows near its scroll position exist."""
    return page.locator(f"#vmk-items tr[data-id='{item_id}']")


def scroll_list(page, top):
    """Scrolls the list to ``top`` px as a reviewer would (the page rebuilds rows on scroll)."""
    page.evaluate("(top) => { document.getElementById('vmk-list').scrollTop = top; }", top)


def row_height(page):
    return page.evaluate(
        "() => { const [a, b] = document.querySelectorAll('#vmk-items tr');"
        " return b.getBoundingClientRect().top - a.getBoundingClientRect().top; }"
    )


def wait_in_view(page, item_id):
    """Waits until the item's row is in the page and wholly visible below the list's header."""
    page.wait_for_function(
        """(id) => {
            const list = document.getElementById('vmk-list');
            const tr = [...document.querySelectorAll('#vmk-items tr')]
                .find((r) => r.dataset.id === id);
            if (!tr) return false;
            const box = tr.getBoundingClientRect(), view = list.getBoundingClientRect();
            const head = list.querySelector('th').getBoundingClientRect();
            return box.top >= head.bottom - 1 && box.bottom <= view.top + list.clientTop
                + list.clientHeight + 1;
        }""",
        arg=item_id,
    )


def pick(page, text, opener="#vmk-fix"):
    """Chooses a label in the picker: opens it, types ``text`` and confirms the first match."""
    page.click(opener)
    page.fill("#vmk-pick-q", text)
    page.press("#vmk-pick-q", "Enter")
    page.wait_for_selector("#vmk-picker", state="hidden")


def rendered_ids(page):
    return page.eval_on_selector_all("#vmk-items tr", "(rows) => rows.map((r) => r.dataset.id)")


def current_time(page):
    return page.evaluate("document.getElementById('vmk-video').currentTime")


def wait_time(page, seconds, tolerance=0.05):
    page.wait_for_function(
        "([t, tol]) => { const v = document.getElementById('vmk-video');"
        " return !v.seeking && Math.abs(v.currentTime - t) <= tol; }",
        arg=[seconds, tolerance],
    )


def test_video_plays_and_clicking_an_item_seeks_to_it(page, preview_server, artifacts):
    server = preview_server(task_input())
    open_page(page, server)
    assert page.evaluate("document.getElementById('vmk-video').duration") == pytest.approx(54, 0.01)
    page.click("#vmk-play")
    page.wait_for_function(
        "() => { const v = document.getElementById('vmk-video');"
        " return !v.paused && v.currentTime > 0.3; }"
    )
    page.click("#vmk-play")
    page.wait_for_function("document.getElementById('vmk-video').paused")

    row(page, "i-soldier-gun").locator(".vmk-time").click()
    wait_time(page, 21.5)
    assert page.text_content("#vmk-cur-label") == "Weapons"
    assert "vmk-current" in row(page, "i-soldier-gun").get_attribute("class")

    page.locator(".vmk-mark[data-index='3']").click()  # Smoking, on the timeline
    wait_time(page, 30.0)
    assert page.text_content("#vmk-cur-id") == "i-smoke"
    assert page.text_content("#vmk-cur-time").startswith("0:30.0–0:35.0")
    assert page.locator(".vmk-track").count() == 4  # one lane per category
    assert page.locator(".vmk-mark.vmk-moment").count() == 2
    # The page's own controls, below the picture: no native control bar over it.
    assert page.evaluate("document.getElementById('vmk-video').controls") is False
    page.screenshot(path=str(artifacts / "reviewer-page.png"), full_page=True)


def test_playback_keys(page, preview_server):
    server = preview_server(task_input())
    open_page(page, server)
    # The first item is current from the start: a verdict key needs no N first.
    assert page.text_content("#vmk-cur-id") == "i-toast-drink"
    page.keyboard.press("n")
    wait_time(page, 15.0)
    page.keyboard.press("p")
    wait_time(page, 6.2)
    assert page.text_content("#vmk-cur-id") == "i-toast-drink"

    page.keyboard.press(".")
    wait_time(page, 6.24, 0.005)
    page.keyboard.press(",")
    page.keyboard.press(",")
    wait_time(page, 6.16, 0.005)
    page.keyboard.press("ArrowRight")
    wait_time(page, 7.16, 0.005)

    page.keyboard.press("]")
    assert page.evaluate("document.getElementById('vmk-video').playbackRate") == 1.25
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert page.evaluate("document.getElementById('vmk-video').playbackRate") == 0.75
    assert page.input_value("#vmk-speed") == "0.75"

    page.keyboard.press("r")
    assert page.get_attribute("#vmk-loop", "aria-pressed") == "true"
    assert page.is_visible("#vmk-loopband")
    page.keyboard.press("m")
    assert page.evaluate("document.getElementById('vmk-video').muted") is True
    page.keyboard.press(" ")
    page.wait_for_function("!document.getElementById('vmk-video').paused")
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('vmk-video').paused")

    # Space presses a focused button (here: one frame back), it does not play the video.
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "vmk-play"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "vmk-frame-back"
    before = current_time(page)
    page.keyboard.press(" ")
    wait_time(page, before - 0.04, 0.005)
    assert page.evaluate("document.getElementById('vmk-video').paused")
    # ... and a verdict key works while a button has the focus.
    page.keyboard.press("1")
    assert row(page, "i-toast-drink").get_attribute("data-verdict") == "violation"

    # ? lists the shortcuts; Esc closes the list.
    page.keyboard.press("?")
    assert page.is_visible("#vmk-help")
    assert "clear the verdict" in page.text_content("#vmk-help")
    page.keyboard.press("n")  # the list is open: page keys wait
    page.keyboard.press("Escape")
    assert not page.is_visible("#vmk-help")


def test_keyboard_only_review_of_a_whole_task(page, preview_server):
    """Every verdict kind, a correction through the picker, a cleared verdict: keys only."""
    server = preview_server(task_input())
    open_page(page, server)
    keys = page.keyboard
    assert page.is_checked("#vmk-auto")  # auto-advance is on by default
    keys.press("1")  # Drinking: violation, and on to Bare Back
    assert page.text_content("#vmk-cur-id") == "i-beach-back"
    keys.press("2")  # Bare Back: not a violation
    assert page.text_content("#vmk-cur-id") == "i-soldier-gun"
    keys.press("3")  # Weapons: wrong category; it stays, it needs the right label
    assert page.text_content("#vmk-cur-id") == "i-soldier-gun"
    assert not page.is_visible("#vmk-picker")
    keys.press("Enter")  # opens the picker on purpose
    assert page.evaluate("document.activeElement.id") == "vmk-pick-q"
    keys.type("blast")
    assert (
        page.locator("#vmk-pick-list li").first.text_content().startswith("Explosions and Blasts")
    )
    keys.press("Enter")
    assert page.text_content("#vmk-cur-id") == "i-smoke"
    assert "→ Explosions and Blasts" in row(page, "i-soldier-gun").text_content()
    keys.press("4")  # Smoking: unsure (escalated)
    assert page.text_content("#vmk-cur-id") == "i-poker-bottle"
    keys.press("1")
    keys.press("0")  # cleared
    assert row(page, "i-poker-bottle").get_attribute("data-verdict") == ""
    keys.press("1")
    keys.press("Backspace")  # cleared again
    assert row(page, "i-poker-bottle").get_attribute("data-verdict") == ""
    keys.press("2")
    keys.press("p")
    keys.press("e")  # Smoking: escalate off again
    keys.press("t")  # to the note; typing there is typing, not shortcuts
    keys.type("n1 p2 e")
    keys.press("Escape")
    assert page.text_content("#vmk-cur-id") == "i-smoke"
    keys.press("ArrowRight")  # the page's keys work again after Esc
    keys.press("Control+Enter")
    page.wait_for_function("document.getElementById('vmk-review').value !== ''")
    [content] = wait_answers(server)
    doc = answers.parse_answer_content(content, task_input()["items"])
    got = {i["id"]: (i["verdict"], i["category"], i["escalate"], i["note"]) for i in doc["items"]}
    assert got == {
        "i-toast-drink": ("violation", None, False, ""),
        "i-beach-back": ("not_violation", None, False, ""),
        "i-soldier-gun": ("wrong_category", "Explosions and Blasts", False, ""),
        "i-smoke": ("unsure", None, False, "n1 p2 e"),
        "i-poker-bottle": ("not_violation", None, False, ""),
    }


def wait_answers(server, count=1):
    import time

    for _ in range(100):
        if len(server.answers) >= count:
            return server.answers
        time.sleep(0.05)
    raise AssertionError(f"the page did not post {count} answer(s)")


def test_the_wrong_category_trap_is_gone(page, preview_server):
    server = preview_server(task_input())
    open_page(page, server)
    page.keyboard.press("n")
    page.keyboard.press("n")
    assert page.text_content("#vmk-cur-id") == "i-soldier-gun"
    page.keyboard.press("3")
    assert page.evaluate("document.activeElement.id") != "vmk-pick-q"
    page.keyboard.press("n")  # the documented next-item key moves on; it picks no label
    assert page.text_content("#vmk-cur-id") == "i-smoke"
    page.keyboard.press("p")
    assert page.text_content("#vmk-cur-id") == "i-soldier-gun"
    assert "needs the right label" in row(page, "i-soldier-gun").text_content()
    page.keyboard.press("l")  # open the picker, then leave it with Esc: nothing changes
    page.keyboard.type("nud")
    page.keyboard.press("Escape")
    assert not page.is_visible("#vmk-picker")
    assert "needs the right label" in row(page, "i-soldier-gun").text_content()
    page.keyboard.press("n")
    page.keyboard.press("p")
    page.keyboard.press("2")
    assert row(page, "i-soldier-gun").get_attribute("data-verdict") == "not_violation"
    assert page.text_content("#vmk-cur-id") == "i-smoke"  # the next item without one


def test_accessible_names_are_clean_and_markers_are_focusable(page, preview_server):
    server = preview_server(task_input())
    open_page(page, server)
    detail = page.locator("#vmk-cur-verdicts")
    violation = detail.get_by_role("button", name="Violation", exact=True)
    assert violation.get_attribute("aria-keyshortcuts") == "1"
    assert (
        page.get_by_role("button", name="Next item ▶", exact=True).get_attribute(
            "aria-keyshortcuts"
        )
        == "N"
    )
    named = row(page, "i-soldier-gun").get_by_role(
        "button", name="Wrong category: Weapons at 0:21.5–0:28.4", exact=True
    )
    assert named.count() == 1
    marks = page.locator(".vmk-mark")
    for n in range(marks.count()):
        mark = marks.nth(n)
        assert mark.get_attribute("role") == "button"
        assert mark.get_attribute("tabindex") in ("0", "-1")
        assert mark.get_attribute("aria-label")
    smoke = page.get_by_role("button", name="Smoking, 0:30.0–0:35.0, no verdict")
    smoke.focus()
    page.keyboard.press("Enter")
    assert page.text_content("#vmk-cur-id") == "i-smoke"
    assert smoke.get_attribute("tabindex") == "0"


def test_submit_is_refused_until_every_item_has_a_verdict(page, preview_server):
    server = preview_server(task_input())
    open_page(page, server)
    page.click("#vmk-submit")
    status = page.text_content("#vmk-status")
    assert "5 of the 5 items have no verdict" in status and "0:06.2 Drinking" in status
    assert page.locator("#vmk-items tr.vmk-missing").count() == 5
    assert server.answers == []

    row(page, "i-toast-drink").locator("button[data-verdict='wrong_category']").click()
    row(page, "i-soldier-gun").locator("button[data-verdict='not_violation']").click()
    page.fill("#vmk-note", "a prop, not a real gun")
    page.click("#vmk-submit")
    status = page.text_content("#vmk-status")
    assert "3 of the 5 items have no verdict" in status
    assert "1 item is marked “wrong category” without the right label: 0:06.2 Drinking" in status
    assert server.answers == []

    row(page, "i-toast-drink").click()
    pick(page, "Alcoholic Bev")
    page.locator("#vmk-bulk button[data-category='Alcohol'][data-verdict='violation']").click()
    row(page, "i-smoke").locator("button[data-verdict='unsure']").click()
    page.click("#vmk-submit")
    assert "1 of the 5 items has no verdict: 0:15.0 Bare Back" in page.text_content("#vmk-status")
    page.locator("#vmk-bulk button[data-verdict='not_violation']").first.click()  # the rest
    page.fill("#vmk-notes", "Scene 4 is staged.")
    with page.expect_response("**/answers"):
        page.click("#vmk-submit")
    [content] = server.answers
    assert list(content) == ["review"]
    doc = answers.parse_answer_content(content, task_input()["items"])
    jsonschema.validate(doc, answers.json_schema())
    by_id = {item["id"]: item for item in doc["items"]}
    assert [item["id"] for item in doc["items"]] == [i[0] for i in ITEMS]
    assert by_id["i-toast-drink"] == answers.answer_item(
        "i-toast-drink",
        "wrong_category",
        category="Alcoholic Beverages",
        start_ms=6200,
        end_ms=11800,
    )
    assert by_id["i-soldier-gun"]["note"] == "a prop, not a real gun"
    assert by_id["i-poker-bottle"] == answers.answer_item(
        "i-poker-bottle", "violation", bulk=True, start_ms=37000, end_ms=37000
    )
    assert doc["schema"] == "vmk-review/2" and doc["added"] == []
    assert by_id["i-smoke"]["verdict"] == "unsure" and by_id["i-smoke"]["escalate"] is True
    assert by_id["i-beach-back"]["verdict"] == "not_violation" and by_id["i-beach-back"]["bulk"]
    assert doc["notes"] == "Scene 4 is staged."


def test_two_thousand_items_stay_usable(page, preview_server):
    categories = ["Alcohol", "Violence", "Drugs & Tobacco", "Gambling"]
    items = [
        (f"i-{n:05d}", f"L{n}", "P", categories[n % 4], 25 * n, 25 * n + n % 3 * 400, 80.0, 2)
        for n in range(2000)
    ]
    server = preview_server(task_input(items))
    open_page(page, server)
    # The list reports every item (plus its header row) but only a window of rows is built.
    assert page.get_attribute("#vmk-table", "aria-rowcount") == "2001"
    assert page.locator(".vmk-mark").count() == 2000
    ids = rendered_ids(page)
    assert 12 <= len(ids) <= 40 and ids[0] == "i-00000"
    assert row(page, "i-00000").get_attribute("aria-rowindex") == "2"
    height = row_height(page)

    # Scrolling to the end shows the last item; the window moves, it does not grow.
    page.evaluate("const l = document.getElementById('vmk-list'); l.scrollTop = l.scrollHeight")
    wait_in_view(page, "i-01999")
    assert row(page, "i-01999").get_attribute("aria-rowindex") == "2001"
    assert len(rendered_ids(page)) <= 40 and "i-00000" not in rendered_ids(page)

    # A far row, scrolled to, works like any other.
    scroll_list(page, (1500 - 3) * height)  # three rows above it in view
    row(page, "i-01500").locator(".vmk-time").click()
    wait_time(page, 37.5)
    assert page.text_content("#vmk-cur-id") == "i-01500"
    assert "vmk-current" in row(page, "i-01500").get_attribute("class")

    # N and P walk across the window's edge: the list follows the current item.
    page.click("h2")
    page.keyboard.press("n")
    assert page.text_content("#vmk-cur-id") == "i-01501"
    for _ in range(45):
        page.keyboard.press("n")
    assert page.text_content("#vmk-cur-id") == "i-01546"
    wait_in_view(page, "i-01546")
    assert "vmk-current" in row(page, "i-01546").get_attribute("class")
    assert page.locator("#vmk-items tr.vmk-current").count() == 1
    for _ in range(45):
        page.keyboard.press("p")
    assert page.text_content("#vmk-cur-id") == "i-01501"
    wait_in_view(page, "i-01501")
    assert page.locator("#vmk-items tr.vmk-current").count() == 1

    page.keyboard.press("3")
    pick(page, "Smoking")
    assert row(page, "i-01501").get_attribute("data-verdict") == "wrong_category"
    page.select_option("#vmk-filter", "open")
    # Filtered-out items get no row: its neighbours are now next to each other.
    assert page.get_attribute("#vmk-table", "aria-rowcount") == "2000"
    assert row(page, "i-01501").count() == 0
    assert row(page, "i-01500").get_attribute("aria-rowindex") == "1502"
    assert row(page, "i-01502").get_attribute("aria-rowindex") == "1503"
    assert len(rendered_ids(page)) <= 40
    for button in page.locator("#vmk-bulk button[data-verdict='violation']").all():
        button.click()
    assert "2000 of 2000 items have a verdict" in page.text_content("#vmk-progress")
    assert page.get_attribute("#vmk-table", "aria-rowcount") == "1"  # none open any more

    # A far item loses its label; with the list at its top and filtered, submit is refused,
    # shows all items again, jumps to that item and highlights its row.
    page.select_option("#vmk-filter", "all")
    scroll_list(page, (1992 - 3) * height)
    row(page, "i-01992").locator(".vmk-time").click()
    page.click("h2")
    page.keyboard.press("3")
    page.select_option("#vmk-filter", "escalated")
    scroll_list(page, 0)
    page.click("#vmk-submit")
    status = page.text_content("#vmk-status")
    assert "1 item is marked “wrong category” without the right label: 0:49.8 L1992" in status
    assert page.input_value("#vmk-filter") == "all"
    assert page.get_attribute("#vmk-table", "aria-rowcount") == "2001"
    wait_in_view(page, "i-01992")
    assert page.text_content("#vmk-cur-id") == "i-01992"
    missing = page.locator("#vmk-items tr.vmk-missing")
    assert missing.count() == 1 and missing.get_attribute("data-id") == "i-01992"
    assert server.answers == []
    pick(page, "Weapons")
    assert page.locator("#vmk-items tr.vmk-missing").count() == 0
    with page.expect_response("**/answers"):
        page.click("#vmk-submit")
    doc = answers.parse_answer_content(server.answers[0], task_input(items)["items"])
    verdicts = [item["verdict"] for item in doc["items"]]
    assert verdicts.count("violation") == 1998
    assert doc["items"][1501]["category"] == "Smoking"
    assert doc["items"][1992] == answers.answer_item(
        "i-01992", "wrong_category", category="Weapons", start_ms=49800, end_ms=49800
    )


HOSTILE = (
    "</script><script>alert('script')</script>"
    "\"'><img src=x onerror=alert('img')><svg onload=alert('svg')>"
    "{{ 7 | times: 6 }}{% raw %}\u2028javascript:alert('url')"
)


def hostile_input():
    doc = task_input(ITEMS[:2])
    doc["video"].update(title="T" + HOSTILE, s3_uri=f"s3://b/{HOSTILE}.mp4")
    doc["rules"] = "R" + HOSTILE
    doc["window"] = {"start_ms": HOSTILE, "end_ms": 1, "index": HOSTILE, "count": 2}
    doc["extra"] = {"field": HOSTILE}
    for n, item in enumerate(doc["items"]):
        item.update(id=f"{n}{HOSTILE}", label=f"L{HOSTILE}", parent=f"P{HOSTILE}")
        item.update(category=f"C{HOSTILE}", confidence=HOSTILE, detections=HOSTILE)
    return doc


INJECTED = """() => ({
  handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onmouseover]').length,
  images: document.querySelectorAll('img, svg, iframe, object, embed').length,
  scripts: Array.from(document.scripts).map((s) => s.getAttribute('src') || 'inline'),
})"""


def assert_inert(page, dialogs, scripts):
    assert dialogs == []
    assert page.evaluate(INJECTED) == {"handlers": 0, "images": 0, "scripts": scripts}


def test_hostile_input_is_shown_as_text_and_never_runs(page, preview_server, dialogs):
    doc = hostile_input()
    server = preview_server(doc)
    open_page_without_video = page.goto(server.url)
    assert open_page_without_video.ok
    page.wait_for_function("!!window.crowdStandIn")
    assert_inert(page, dialogs, ["/crowd-html-elements.js", "inline"])
    assert page.text_content("#vmk-title") == "T" + HOSTILE
    assert ("R" + HOSTILE) in page.text_content("#vmk-summary")
    first = page.locator("#vmk-items tr").first
    assert f"L{HOSTILE}" in first.text_content() and f"P{HOSTILE}" in first.text_content()
    assert page.locator(".vmk-lane-name").first.text_content() == f"C{HOSTILE}"
    first.locator(".vmk-time").click()
    assert page.text_content("#vmk-cur-id") == f"0{HOSTILE}"
    assert page.text_content("#vmk-cur-category") == f"C{HOSTILE}"
    page.click("#vmk-submit")
    for button in page.locator("#vmk-bulk button[data-verdict='violation']").all():
        button.click()
    with page.expect_response("**/answers"):
        page.click("#vmk-submit")
    submitted = answers.parse_answer_content(server.answers[0], doc["items"])
    assert [item["id"] for item in submitted["items"]] == [f"0{HOSTILE}", f"1{HOSTILE}"]
    assert_inert(page, dialogs, ["/crowd-html-elements.js", "inline"])


def test_hostile_items_stay_text_in_rows_built_on_scroll(page, preview_server, dialogs):
    doc = task_input(
        [
            (f"{n}{HOSTILE}", f"L{HOSTILE}", f"P{HOSTILE}", f"C{HOSTILE}", 20 * n, 20 * n, 90, 1)
            for n in range(300)
        ]
    )
    server = preview_server(doc)
    open_page(page, server)
    assert len(rendered_ids(page)) < 300
    page.evaluate("const l = document.getElementById('vmk-list'); l.scrollTop = l.scrollHeight")
    page.wait_for_function(
        "(id) => [...document.querySelectorAll('#vmk-items tr')].some((r) => r.dataset.id === id)",
        arg=f"299{HOSTILE}",
    )
    last = page.locator("#vmk-items tr").last
    assert last.get_attribute("data-id") == f"299{HOSTILE}"
    assert last.locator(".vmk-name").text_content() == f"L{HOSTILE}"
    assert last.locator(".vmk-parent").text_content() == f"P{HOSTILE}"
    assert last.locator("td").nth(3).text_content() == f"C{HOSTILE}"
    last.locator(".vmk-time").click()
    assert page.text_content("#vmk-cur-id") == f"299{HOSTILE}"
    page.uncheck("#vmk-auto")  # stay on the item after its verdict
    page.keyboard.press("1")
    assert last.locator(".vmk-state").text_content() == "Violation"
    assert_inert(page, dialogs, ["/crowd-html-elements.js", "inline"])


def test_hostile_uri_without_grant_stays_an_attribute(page, dialogs):
    doc = hostile_input()
    html = preview.render(doc)  # grant_read_access leaves the hostile URI as it is
    page.set_content(html, wait_until="domcontentloaded")
    source = page.get_attribute("#vmk-video source", "src")
    assert source == doc["video"]["s3_uri"]
    assert page.text_content("#vmk-title") == "T" + HOSTILE
    assert_inert(page, dialogs, [preview.CROWD_SCRIPT_URL, "inline"])
    assert json.loads(page.get_attribute("#vmk", "data-input")) == doc
