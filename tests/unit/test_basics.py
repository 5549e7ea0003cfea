"""Waiting, names, media checks, pricing, preview and state (no AWS)."""

import itertools
from pathlib import Path

import pytest

from helpers import media, mp4, names, preview, pricing, state
from helpers.errors import InputError, StateMissing, WaitTimeout
from helpers.waiting import Backoff, wait_until


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, s):
        self.sleeps.append(s)
        self.now += s

    def __call__(self):
        return self.now


def test_wait_until_backs_off_and_returns():
    clock = FakeClock()
    calls = itertools.count()
    out = wait_until(
        lambda: next(calls),
        lambda n: n >= 5,
        what="x",
        timeout=1000,
        advice="a",
        sleep=clock.sleep,
        clock=clock,
    )
    assert out == 5
    assert clock.sleeps[-1] > clock.sleeps[0]  # grows


def test_wait_until_times_out_with_advice():
    clock = FakeClock()
    with pytest.raises(WaitTimeout, match="within 10 s — check the role"):
        wait_until(
            lambda: 0,
            bool,
            what="thing",
            timeout=10,
            advice="check the role",
            sleep=clock.sleep,
            clock=clock,
        )
    assert clock.now == pytest.approx(10)


def test_backoff_caps():
    delays = list(itertools.islice(Backoff(first=1, factor=2, cap=8, jitter=0).delays(), 6))
    assert delays == [1, 2, 4, 8, 8, 8]


def test_names():
    run = names.new_run_id()
    assert names.RUN_ID_PATTERN.match(run)
    assert names.resource_name("flow", run, "ab12").startswith("vmk-flow-")
    with pytest.raises(InputError, match="does not match"):
        names.check_a2i_name("Upper-Case")
    with pytest.raises(InputError, match="characters long"):
        names.check_a2i_name("a" * 64)


def test_media_checks(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        media.check_video_file(tmp_path / "nope.mp4")
    txt = tmp_path / "notes.txt"
    txt.write_text("hi")
    with pytest.raises(InputError, match="not a video"):
        media.check_video_file(txt)
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"this is not an mp4 file at all")
    with pytest.raises(InputError, match="not an MP4, MOV or AVI"):
        media.check_video_file(fake)
    hevc = tmp_path / "hevc.mp4"
    hevc.write_bytes(mp4.header_only(10_000, codec=b"hvc1"))
    with pytest.raises(InputError, match=r"hevc; Rekognition Video reads H\.264 only"):
        media.check_video_file(hevc)
    long = tmp_path / "long.mp4"
    long.write_bytes(mp4.header_only(6 * 3600 * 1000 + 1))
    with pytest.raises(InputError, match="at most 6 h"):
        media.check_video_file(long)
    ok = tmp_path / "six-hours.mp4"
    ok.write_bytes(mp4.header_only(6 * 3600 * 1000))
    assert media.check_video_file(ok) == ok


def test_mp4_probe_reads_the_sample_and_header_only_files():
    sample = Path(__file__).resolve().parents[2] / "datasets" / "media" / "moderation-sample.mp4"
    meta = mp4.probe_file(sample)
    assert meta["Codec"] == "h264"
    assert (meta["FrameWidth"], meta["FrameHeight"], meta["FrameRate"]) == (640, 360, 25.0)
    assert meta["DurationMillis"] == 54_000
    assert mp4.probe_bytes(sample.read_bytes()) == meta
    made = mp4.probe_bytes(mp4.header_only(90_000, width=1280, height=720, fps=30))
    assert (made["DurationMillis"], made["FrameWidth"], made["FrameRate"]) == (90_000, 1280, 30.0)
    assert mp4.sniff_container(b"RIFF\x00\x00\x00\x00AVI ") == "avi"
    assert mp4.sniff_container(b"hello world!") is None


def test_pricing_estimate():
    est = pricing.estimate(duration_ms=61_000, loops=2)
    assert list(est["quantity"]) == [2, 2, ""]
    assert list(est["step"])[-1] == "total"
    assert est.attrs["read_on"]
    assert list(est["cost"]) == ["$0.20", "$0.16", "$0.36"]
    again = pricing.estimate(duration_ms=61_000, loops=2, moderated=True)
    assert list(again["usd"]) == [0.0, 0.16, 0.16]  # notebook 4 does not bill the minutes again
    many = pricing.batch_estimate([18_000, 18_000, 18_000], loops=3)
    assert list(many["cost"]) == ["$0.30", "$0.24", "$0.54"]  # never 0.30000000000000004
    assert pricing.dollars(0.001) == "<$0.01"


def test_preview_escapes_hostile_input():
    html = preview.render(
        {
            "schema": "vmk-input/1",
            "video": {
                "title": "<script>alert(1)</script>",
                "s3_uri": "s3://b/k.mp4",
                "duration_ms": 1,
            },
            "items": [],
            "rules": "r",
        },
        grant_read_access=lambda uri: "https://example.test/k.mp4",
    )
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'src="https://example.test/k.mp4"' in html


def test_state_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    with pytest.raises(StateMissing, match="02_moderate_video"):
        state.require("moderation")
    state.record("moderation", {"job_id": "j"})
    assert state.require("moderation") == {"job_id": "j"}
    state.forget()
    assert state.load() == {}
