"""The reviewer page as a moderator's workbench, in Chromium: drafts survive a reload, the
timeline packs each lane so no marker covers another (with at least 3:1 contrast in every state),
zooms and shows the current item's detections and peak; rows get thumbnails; categories named
like Object.prototype's members are categories like any other.
"""

from __future__ import annotations

import pytest
from test_reviewer_page import (
    HOSTILE,
    ITEMS,
    assert_inert,
    open_page,
    pick,
    row,
    task_input,
    wait_answers,
)

from helpers import answers

#: A long Alcohol item with two Drinking items inside it: one lane, three sub-rows' worth.
NESTED = [
    ("i-bev", "Alcoholic Beverages", "Alcohol", "Alcohol", 5300, 12800, 97.2, 20),
    ("i-sip-1", "Drinking", "Alcohol Use", "Alcohol", 7400, 9400, 91.5, 5),
    ("i-sip-2", "Drinking", "Alcohol Use", "Alcohol", 10600, 12400, 90.0, 5),
    ("i-bottle", "Alcoholic Beverages", "Alcohol", "Alcohol", 10700, 10700, 60.0, 1),
    *ITEMS[2:4],
]

#: Contrast of each marker against its track, in the marker's own state (WCAG 1.4.11 needs 3:1).
CONTRASTS = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  return [...document.querySelectorAll('.vmk-mark')].map((m) => {
    const track = rgb(getComputedStyle(m.parentNode).backgroundColor);
    const style = getComputedStyle(m);
    const fill = rgb(style.backgroundColor);
    const filled = fill.length === 3 || fill[3] === 1 ? ratio(fill, track) : 1;
    const outlined = style.borderTopStyle === 'solid' && parseFloat(style.borderTopWidth) >= 2;
    const border = outlined ? ratio(rgb(style.borderTopColor), track) : 0;
    return { id: m.dataset.index, border, fill: filled, cls: m.className };
  });
}"""

#: Pairs of markers of one lane whose boxes intersect.
OVERLAPS = """() => {
  const out = [];
  for (const track of document.querySelectorAll('.vmk-track')) {
    const boxes = [...track.querySelectorAll('.vmk-mark')]
      .map((m) => [m.dataset.index, m.getBoundingClientRect()]);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
      const [a, p] = boxes[i], [b, q] = boxes[j];
        if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom) {
          out.push([a, b]);
        }
      }
    }
  }
  return out;
}"""


def test_a_reload_keeps_the_draft_and_a_submit_clears_it(page, preview_server):
    server = preview_server(task_input())
    open_page(page, server)
    keys = page.keyboard
    keys.press("1")
    keys.press("3")
    keys.press("Enter")
    keys.type("smoking")
    keys.press("Enter")
    keys.press("t")
    keys.type("second look")
    keys.press("Escape")
    page.uncheck("#vmk-auto")
    page.fill("#vmk-notes", "draft notes")
    page.wait_for_timeout(500)  # the draft is saved a moment after the last change
    assert page.is_hidden("#vmk-draft")

    page.reload()
    open_page(page, server)
    assert page.is_visible("#vmk-draft")
    notice = page.text_content("#vmk-draft")
    assert "Draft restored" in notice and "2 verdicts" in notice
    assert row(page, "i-toast-drink").get_attribute("data-verdict") == "violation"
    assert "→ Smoking" in row(page, "i-beach-back").text_content()
    assert page.input_value("#vmk-notes") == "draft notes"
    assert not page.is_checked("#vmk-auto")  # settings too
    assert page.text_content("#vmk-cur-id") == "i-soldier-gun"  # where the reviewer was
    assert page.input_value("#vmk-note") == "second look"

    for button in page.locator("#vmk-bulk button[data-verdict='violation']").all():
        button.click()
    with page.expect_response("**/answers"):
        page.click("#vmk-submit")
    doc = answers.parse_answer_content(server.answers[0], task_input()["items"])
    assert doc["items"][1]["category"] == "Smoking" and doc["items"][2]["note"] == "second look"
    keys_left = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('vmk-draft/'))")
    assert keys_left == []
    page.reload()
    open_page(page, server)
    assert page.is_hidden("#vmk-draft")
    assert row(page, "i-toast-drink").get_attribute("data-verdict") == ""


def test_a_tampered_draft_restores_only_what_the_page_could_have_saved(
    page, preview_server, dialogs
):
    server = preview_server(task_input())
    open_page(page, server)
    page.keyboard.press("3")  # a verdict, so a draft is saved
    page.wait_for_timeout(500)
    key = page.evaluate("Object.keys(localStorage).find((k) => k.startsWith('vmk-draft/'))")
    draft = page.evaluate("(k) => JSON.parse(localStorage.getItem(k))", key)
    draft["items"][0].update(category=f"Beer{HOSTILE}", note=HOSTILE, start=-5)
    draft["items"].append({"id": "__proto__", "verdict": "constructor"})
    draft["added"] = [
        {"id": "a-1", "label": f"L{HOSTILE}", "start": 1000, "end": 2000},
        {"id": "a-2", "label": "Weapons", "start": 3000, "end": 1000},
        {"id": "i-smoke", "label": "Weapons", "start": 3000, "end": 4000},
        {"id": HOSTILE, "label": "Weapons", "start": 3000, "end": 4000, "note": HOSTILE},
    ]
    page.evaluate("([k, d]) => localStorage.setItem(k, JSON.stringify(d))", [key, draft])
    page.evaluate("localStorage.setItem('vmk-draft/stale', JSON.stringify({saved: 0}))")
    page.reload()
    open_page(page, server)
    assert "needs the right label" in row(page, "i-toast-drink").text_content()
    assert "range changed" not in row(page, "i-toast-drink").text_content()
    added = page.locator("#vmk-items tr[data-verdict='added']")
    assert added.count() == 1 and added.get_attribute("data-id") == HOSTILE
    assert page.evaluate("localStorage.getItem('vmk-draft/stale')") is None
    assert_inert(page, dialogs, ["/crowd-html-elements.js", "inline"])


def test_markers_of_a_lane_never_overlap_and_keep_3_to_1_contrast(page, preview_server):
    server = preview_server(task_input(NESTED))
    open_page(page, server)
    assert page.locator(".vmk-track").count() == 3
    alcohol = page.locator(".vmk-track[data-category='Alcohol'] .vmk-mark")
    assert alcohol.count() == 4
    assert page.evaluate(OVERLAPS) == []
    tops = {alcohol.nth(n).evaluate("(m) => m.style.top") for n in range(4)}
    assert len(tops) >= 2  # the Drinking items sit in their own sub-row, not under Alcohol's

    # Every state: open, current, judged, missing after a refused submit.
    page.keyboard.press("1")
    page.keyboard.press("3")
    page.click("#vmk-submit")
    contrasts = page.evaluate(CONTRASTS)
    states = {c["cls"] for c in contrasts}
    assert any("vmk-done" in s for s in states) and any("vmk-current" in s for s in states)
    assert any("vmk-missing" in s for s in states)
    assert any("vmk-done" not in s for s in states)
    for c in contrasts:  # filled in its colour, or hollow and outlined in it
        hollow = c["fill"] == pytest.approx(1)
        assert (c["border"] if hollow else c["fill"]) >= 3, c
        assert hollow == ("vmk-done" in c["cls"]), c

    # Zoomed in, the lanes pack again and still no marker covers another.
    for _ in range(4):
        page.click("#vmk-zoom-in")
    assert page.evaluate(OVERLAPS) == []
    assert "4× zoom" in page.text_content("#vmk-zoom-level")


def test_two_thousand_markers_pack_without_overlap(page, preview_server):
    categories = ["Alcohol", "Violence", "Drugs & Tobacco", "Gambling"]
    items = [
        (f"i-{n:05d}", f"L{n}", "P", categories[n % 4], 25 * n, 25 * n + n % 3 * 400, 80.0, 2)
        for n in range(2000)
    ]
    server = preview_server(task_input(items))
    open_page(page, server)
    assert page.evaluate(OVERLAPS) == []


def seconds(label):
    minutes, _, rest = label.partition(":")
    return int(minutes) * 60 + float(rest)


def test_ticks_zoom_pan_and_the_current_items_detections(page, preview_server):
    doc = task_input()
    doc["items"][2].update(peak_ms=24000, detections_ms=[21500, 22500, 24000, 26000, 28400])
    server = preview_server(doc)
    open_page(page, server)
    labels = page.locator(".vmk-tick:not(.vmk-minor)").all_text_contents()
    assert labels[0] == "0:00"
    coarse = seconds(labels[1])
    width = page.evaluate("document.getElementById('vmk-inner').getBoundingClientRect().width")
    for _ in range(4):  # 1.5×, 2×, 3×, 4×
        page.keyboard.press("+")
    assert page.evaluate(
        "document.getElementById('vmk-inner').getBoundingClientRect().width"
    ) == pytest.approx(width * 4, rel=0.02)
    finer = page.locator(".vmk-tick:not(.vmk-minor)").all_text_contents()
    assert finer[0] == "0:00" and 0 < seconds(finer[1]) < coarse

    # Ctrl + wheel over the timeline zooms; N to a far item pans the timeline to it.
    box = page.locator("#vmk-scroll").bounding_box()
    page.mouse.move(box["x"] + 50, box["y"] + 20)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    page.wait_for_function(
        "(w) => document.getElementById('vmk-inner').getBoundingClientRect().width > w * 4.5",
        arg=width,
    )
    for _ in range(4):
        page.keyboard.press("n")
    assert page.text_content("#vmk-cur-id") == "i-poker-bottle"
    assert page.evaluate("document.getElementById('vmk-scroll').scrollLeft") > 0
    page.keyboard.press("p")
    page.keyboard.press("p")
    assert page.text_content("#vmk-cur-id") == "i-soldier-gun"
    mark = page.locator(".vmk-mark.vmk-current")
    assert mark.locator(".vmk-det").count() == 5
    assert mark.locator(".vmk-peak").count() == 1
    peak = mark.locator(".vmk-peak").bounding_box()
    span = mark.bounding_box()
    share = (peak["x"] + peak["width"] / 2 - span["x"]) / span["width"]
    assert share == pytest.approx((24000 - 21500) / (28400 - 21500), abs=0.05)
    assert "peak at 0:24.0" in page.text_content("#vmk-cur-detections")
    page.click("#vmk-zoom-fit")
    assert page.evaluate(
        "document.getElementById('vmk-inner').getBoundingClientRect().width"
    ) == pytest.approx(width, rel=0.02)


STILL = """(id) => {
  const tr = [...document.querySelectorAll('#vmk-items tr')].find((r) => r.dataset.id === id);
  const c = tr && tr.querySelector('canvas[data-drawn]');
  if (!c) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let sum = 0;
  for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i + 1] + d[i + 2];
  return sum / (d.length / 4) / 3;
}"""


def test_visible_rows_get_thumbnails_at_their_peak(page, preview_server):
    items = [
        (f"i-{n:03d}", f"L{n}", "P", "Alcohol", 100 * n, 100 * n + 50, 90.0, 1) for n in range(300)
    ]
    server = preview_server(task_input(items))
    open_page(page, server)
    page.wait_for_function(
        "() => document.querySelectorAll('#vmk-items canvas[data-drawn]').length"
        " === document.querySelectorAll('#vmk-items tr').length",
        timeout=20_000,
    )
    assert page.evaluate(STILL, "i-000") > 5  # a picture, not an empty canvas
    drawn = page.evaluate("document.querySelectorAll('#vmk-items canvas[data-drawn]').length")
    assert drawn < 60  # only the rows in the page: the others get none
    page.evaluate("const l = document.getElementById('vmk-list'); l.scrollTop = l.scrollHeight")
    page.wait_for_function(
        "() => { const r = [...document.querySelectorAll('#vmk-items tr')].pop();"
        " return r && r.dataset.id === 'i-299' && !!r.querySelector('canvas[data-drawn]'); }",
        timeout=20_000,
    )


@pytest.mark.parametrize("name", ["__proto__", "constructor", "toString", "hasOwnProperty"])
def test_categories_named_like_object_members_are_plain_categories(
    page, preview_server, dialogs, name
):
    items = [
        (name, name, name, name, 2000, 4000, 90.0, 3),
        ("i-2", "Weapons", "Violence", name, 6000, 6000, 80.0, 1),
        ("valueOf", "Weapons", "Violence", "Violence", 8000, 9000, 70.0, 2),
    ]
    server = preview_server(task_input(items))
    open_page(page, server)
    assert page.locator(".vmk-track").count() == 2
    assert page.locator(f".vmk-track[data-category='{name}'] .vmk-mark").count() == 2
    assert page.locator(".vmk-lane-name").all_text_contents().count(name) == 1
    bulk = page.locator(f"#vmk-bulk button[data-category='{name}'][data-verdict='violation']")
    assert bulk.count() == 1
    open_count = bulk.locator("xpath=ancestor::tr").locator("td").nth(2)
    assert open_count.text_content() == "2"
    page.select_option("#vmk-filter", f"category:{name}")
    assert page.get_attribute("#vmk-table", "aria-rowcount") == "3"
    page.select_option("#vmk-filter", "all")
    bulk.click()
    assert open_count.text_content() == "0"
    row(page, "valueOf").locator("button[data-verdict='wrong_category']").click()
    pick(page, "Weapons")
    page.reload()
    open_page(page, server)  # the draft keyed by these ids restores
    assert row(page, name).get_attribute("data-verdict") == "violation"
    assert "→ Weapons" in row(page, "valueOf").text_content()
    with page.expect_response("**/answers"):
        page.click("#vmk-submit")
    doc = answers.parse_answer_content(wait_answers(server)[0], task_input(items)["items"])
    assert [i["id"] for i in doc["items"]] == [name, "i-2", "valueOf"]
    assert doc["items"][2]["category"] == "Weapons"
    assert_inert(page, dialogs, ["/crowd-html-elements.js", "inline"])


def test_an_added_moment_and_an_adjusted_item_stay_text_when_hostile(page, preview_server, dialogs):
    doc = task_input(ITEMS[:1])
    doc["items"][0].update(label=f"L{HOSTILE}", peak_ms=HOSTILE, detections_ms=[HOSTILE, 7000])
    server = preview_server(doc)
    open_page(page, server)
    page.keyboard.press("1")
    page.keyboard.press("n")  # the last item: N stays on it, and goes to its start
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.getElementById('vmk-video').currentTime === 7.2")
    page.keyboard.press("i")
    page.keyboard.press("a")
    page.keyboard.type("weap")
    page.keyboard.press("Enter")
    assert page.text_content("#vmk-cur-label") == "Weapons"
    with page.expect_response("**/answers"):
        page.click("#vmk-submit")
    content = server.answers[0]
    got = answers.parse_answer_content(content, doc["items"])
    assert got["items"][0]["adjusted"] and got["items"][0]["start_ms"] == 7200
    assert [a["label"] for a in got["added"]] == ["Weapons"]
    assert_inert(page, dialogs, ["/crowd-html-elements.js", "inline"])
