"""Chromium starts, plays the kit's H.264 sample, and shows the reviewer page's data as text."""

from helpers import preview

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def test_reviewer_page_renders_hostile_title_as_text(page, artifacts):
    html = preview.render(
        {
            "schema": "vmk-input/1",
            "video": {"title": HOSTILE, "s3_uri": "s3://b/k.mp4", "duration_ms": 1000},
            "items": [
                {
                    "id": "i-1",
                    "label": HOSTILE,
                    "parent": "Alcohol Use",
                    "category": "Alcohol",
                    "start_ms": 0,
                    "end_ms": 500,
                    "confidence": 90.0,
                    "detections": 2,
                }
            ],
            "rules": "lab-v7",
        },
        grant_read_access=lambda uri: "about:blank",
    )
    page.set_content(html)
    assert page.text_content("#vmk-title") == HOSTILE
    assert HOSTILE in page.text_content("#vmk-items")
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(artifacts / "reviewer-page-smoke.png"))


def test_chromium_decodes_h264(page):
    assert (
        page.evaluate(
            "document.createElement('video').canPlayType('video/mp4; codecs=\"avc1.42E01E\"')"
        )
        == "probably"
    )
