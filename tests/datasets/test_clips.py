"""The many-videos clips: real H.264 parts of the sample, with recordings that match them."""

import json
import subprocess
import sys
from pathlib import Path

from helpers import mp4

ROOT = Path(__file__).resolve().parents[2]


def test_clip_recordings_are_current():
    subprocess.run(
        [sys.executable, str(ROOT / "datasets" / "make_clips.py"), "--check"], check=True
    )


def test_clips_are_h264_and_match_their_recordings():
    clips = sorted((ROOT / "datasets" / "media" / "clips").glob("*.mp4"))
    assert len(clips) == 3
    for clip in clips:
        meta = mp4.probe_file(clip)
        assert meta["Codec"] == "h264"
        doc = json.loads((ROOT / "datasets" / "recordings" / f"{clip.stem}.json").read_text())
        assert doc["VideoMetadata"]["DurationMillis"] == meta["DurationMillis"]
        assert all(0 <= r["Timestamp"] < meta["DurationMillis"] for r in doc["ModerationLabels"])
