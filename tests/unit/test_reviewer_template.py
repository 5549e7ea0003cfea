"""The reviewer page's template (size, Liquid, safety rules) and the local preview (no browser)."""

import html
import json
import re
import urllib.request
from html.parser import HTMLParser

import pytest

from helpers import preview, review, taxonomy
from helpers.errors import InputError

TEMPLATE = review.load_template()


def many_items(n):
    return [
        {
            "id": f"i-{k:05d}",
            "label": "Drinking",
            "parent": "Alcohol Use",
            "category": "Alcohol",
            "start_ms": 20 * k,
            "end_ms": 20 * k + (0 if k % 2 else 400),
            "confidence": 90.0,
            "detections": 2,
        }
        for k in range(n)
    ]


def test_template_stays_under_a2is_limit_with_room_to_spare():
    assert len(TEMPLATE) < review.MAX_TEMPLATE_CHARS
    # v3 (keyboard, drafts, timeline zoom, thumbnails, adjust and add) takes about 80,000
    # characters; a quarter of A2I's limit stays free for what comes next.
    assert len(TEMPLATE) < review.MAX_TEMPLATE_CHARS * 3 // 4, "the page grew past 3/4 of the limit"


def test_load_template_refuses_a_template_over_the_limit(tmp_path):
    big = tmp_path / "big.liquid.html"
    big.write_text("x" * (review.MAX_TEMPLATE_CHARS + 1))
    with pytest.raises(InputError, match="128,000"):
        review.load_template(big)


def test_template_uses_basic_liquid_and_safe_filters_only():
    outputs = re.findall(r"\{\{(.*?)\}\}", TEMPLATE, re.S)
    assert [o.strip() for o in outputs] == [
        "task.input | to_json | escape",
        "task.input.video.title",
        "task.input.video.s3_uri | grant_read_access",
    ]
    assert "{%" not in TEMPLATE
    assert "skip_autoescape" not in TEMPLATE.split("-->", 1)[1]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_template_has_no_inline_handlers_no_html_sinks_and_one_external_script():
    parser = _Tags()
    parser.feed(TEMPLATE)
    handlers = [(t, a) for t, a in parser.tags for name in a if name.lower().startswith("on")]
    assert handlers == []
    scripts = [a.get("src") for t, a in parser.tags if t == "script"]
    assert scripts == [preview.CROWD_SCRIPT_URL, None]
    code = TEMPLATE.split("<script>", 1)[1]
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
    ):
        assert sink not in code, sink
    named = [a["name"] for t, a in parser.tags if "name" in a]
    assert named == ["review"], "only the hidden answer field may have a name"


def test_wrong_category_offers_the_whole_v7_taxonomy():
    parser = _Tags()
    parser.feed(TEMPLATE)
    values = [a["value"] for t, a in parser.tags if t == "option" and a.get("value")]
    labels = [v for v in values if taxonomy.is_known(v)]
    assert sorted(labels) == sorted(taxonomy.NAMES)
    assert len(labels) == len(set(labels))


HOSTILE = '</script><script>alert(1)</script>"><img src=x onerror=alert(2)>{{ 7 | plus: 1 }}'


def test_render_escapes_every_field_and_the_data_attribute_round_trips():
    task_input = preview.sample_input("s3://b/k.mp4", title=HOSTILE, rules=HOSTILE)
    task_input["items"][0].update(id=HOSTILE, label=HOSTILE, parent=HOSTILE, category=HOSTILE)
    page = preview.render(task_input, grant_read_access=lambda uri: "https://example.test/v.mp4")
    assert "<img src=x" not in page and "</script><script>alert(1)" not in page
    data = re.search(r'data-input="([^"]*)"', page).group(1)
    assert json.loads(html.unescape(data)) == task_input
    assert 'src="https://example.test/v.mp4" type="video/mp4"' in page


def test_render_handles_two_thousand_items():
    task_input = preview.sample_input("s3://b/k.mp4")
    task_input["items"] = many_items(2000)
    page = preview.render(task_input)
    assert page.count("i-01999") == 1


def test_local_page_swaps_the_crowd_script_for_the_stand_in():
    page = preview.render(preview.sample_input("s3://b/k.mp4"))
    local = preview.local_page(page, "/x/crowd.js", submit_url="/s?a=1&b=2", done_url="/d")
    assert preview.CROWD_SCRIPT_URL not in local
    assert '<script src="/x/crowd.js" data-submit-url="/s?a=1&amp;b=2" data-done-url="/d">' in local
    assert local.count("<script") == page.count("<script")
    assert preview.local_page("<p>no script</p>", "/c.js").startswith('<script src="/c.js">')


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=10-", (10, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=990-5000", (990, 999)),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=abc", None),
        ("bytes=9-3", None),
    ],
)
def test_byte_range(header, expected):
    assert preview.byte_range(header, 1000) == expected


def test_range_not_satisfiable():
    with pytest.raises(preview.RangeNotSatisfiable):
        preview.byte_range("bytes=1000-", 1000)
    status, headers, body = preview.range_response(b"x" * 10, "bytes=20-")
    assert (status, headers["Content-Range"], body) == (416, "bytes */10", b"")


def _get(url, headers=None, data=None):
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_preview_server_serves_page_stand_in_and_video_with_ranges():
    uri = "s3://b/moderation-sample.mp4"
    size = preview.SAMPLE_VIDEO.stat().st_size
    with preview.serve(preview.sample_input(uri), {uri: preview.SAMPLE_VIDEO}) as server:
        status, headers, body = _get(server.url)
        page = body.decode()
        assert status == 200 and "text/html" in headers["Content-Type"]
        assert 'src="/crowd-html-elements.js" data-submit-url="/answers"' in page
        src = re.search(r'<source src="([^"]+)" type="video/mp4">', page).group(1)
        assert src == "/media/0/moderation-sample.mp4"
        status, headers, body = _get(server.url.rstrip("/") + src, {"Range": "bytes=100-199"})
        assert status == 206 and len(body) == 100
        assert headers["Content-Range"] == f"bytes 100-199/{size}"
        assert body == preview.SAMPLE_VIDEO.read_bytes()[100:200]
        status, headers, body = _get(server.url.rstrip("/") + src)
        assert status == 200 and len(body) == size and headers["Accept-Ranges"] == "bytes"
        status, _, body = _get(server.url + "crowd-html-elements.js")
        assert body == preview.stand_in_script()
        answer = {"answerContent": {"review": "{}"}}
        _get(
            server.url + "answers",
            {"Content-Type": "application/json"},
            json.dumps(answer).encode(),
        )
        assert server.answers == [{"review": "{}"}]
        with pytest.raises(urllib.error.HTTPError) as missing:
            _get(server.url + "media/unknown/s3%3A%2F%2Fother")
        assert missing.value.code == 404


def test_sample_items_land_on_their_scenes():
    scenes = {s["id"]: s for s in json.loads(preview.SAMPLE_SCENES.read_text())["scenes"]}
    doc = preview.sample_input("s3://b/k.mp4")
    assert len(doc["items"]) >= 10
    for item in doc["items"]:
        scene = scenes[item["id"].split("-", 3)[3]]
        first, last = scene["start_s"] * 1000, scene["end_s"] * 1000
        assert first <= item["start_ms"] <= item["end_ms"] <= last
        assert item["start_ms"] <= item["peak_ms"] <= item["end_ms"]
        assert item["label"] in {label["name"] for label in scene["labels"]}
        assert (
            taxonomy.top_level(item["label"], 2 if item["label"] == "Gambling" else None)
            == (item["category"])
        )
    weapons = next(item for item in doc["items"] if item["label"] == "Weapons")
    assert weapons["id"].endswith("s4-soldier")  # not on the cigarette scene any more
    assert any(item["start_ms"] == item["end_ms"] for item in doc["items"])  # a moment too
    assert len(json.dumps(doc)) < 128_000  # RenderUiTemplate's input limit
