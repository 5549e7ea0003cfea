"""Recordings, SEGMENTS aggregation, sorting and MP4 probing (no AWS calls)."""

from __future__ import annotations

import json
import logging

import pytest

from helpers.offline import recordings
from helpers.offline.settings import default_recordings_dir


def test_default_recordings_dir_is_the_repositorys():
    here = default_recordings_dir()
    assert here.parts[-2:] == ("datasets", "recordings")
    assert (here.parent.parent / "helpers" / "offline").is_dir()


def test_the_kits_recordings_follow_the_format():
    files = sorted(default_recordings_dir().glob("*.json"))
    if not files:
        pytest.skip("no recording in datasets/recordings yet")
    for path in files:
        recording = recordings.parse_recording(path, json.loads(path.read_text()))
        stamps = [row["Timestamp"] for row in recording.rows]
        assert stamps == sorted(stamps)


def test_invalid_recordings_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "broken.json").write_text('{"video": {}}')
    (tmp_path / "not-json.json").write_text("{")
    with caplog.at_level(logging.WARNING, logger="helpers.offline"):
        assert recordings.load_recordings(tmp_path) == ()
    assert "broken.json" in caplog.text and "not-json.json" in caplog.text


def test_missing_directory_has_no_recordings(tmp_path):
    assert recordings.load_recordings(tmp_path / "nowhere") == ()


def row(ms, name, confidence, parent=""):
    return {
        "Timestamp": ms,
        "ModerationLabel": {
            "Name": name,
            "ParentName": parent,
            "Confidence": confidence,
            "TaxonomyLevel": 1,
        },
    }


def test_segments_merge_runs_within_the_gap_and_keep_the_best_confidence():
    rows = [
        row(0, "A", 60),
        row(500, "A", 90),
        row(1500, "A", 70),
        row(2600, "A", 80),
        row(500, "B", 55),
    ]
    out = recordings.segments(rows, gap_ms=1000)
    assert [
        (
            s["ModerationLabel"]["Name"],
            s["StartTimestampMillis"],
            s["EndTimestampMillis"],
            s["DurationMillis"],
            s["ModerationLabel"]["Confidence"],
        )
        for s in out
    ] == [
        ("A", 0, 1500, 1500, 90.0),
        ("B", 500, 500, 0, 55.0),
        ("A", 2600, 2600, 0, 80.0),
    ]
    assert all(s["Timestamp"] == s["StartTimestampMillis"] for s in out)


def test_segments_keep_parent_and_child_apart():
    rows = [row(0, "Alcohol", 80), row(0, "Alcohol", 70, parent="Something")]
    assert len(recordings.segments(rows, gap_ms=1000)) == 2


def test_sort_by_name_groups_labels_highest_confidence_first():
    rows = [row(0, "B", 60), row(100, "A", 70), row(200, "A", 90), row(300, "B", 95)]
    ordered = recordings.sort_rows(rows, "NAME")
    assert [
        (r["ModerationLabel"]["Name"], r["ModerationLabel"]["Confidence"]) for r in ordered
    ] == [("A", 90), ("A", 70), ("B", 95), ("B", 60)]
    assert [r["Timestamp"] for r in recordings.sort_rows(ordered, "TIMESTAMP")] == [
        0,
        100,
        200,
        300,
    ]


def test_sniff_container():
    assert recordings.sniff_container(b"\x00\x00\x00\x18ftypmp42....") == "mp4"
    assert recordings.sniff_container(b"\x00\x00\x00\x14ftypqt  ....") == "mov"
    assert recordings.sniff_container(b"RIFF\x00\x00\x00\x00AVI LIST") == "avi"
    assert recordings.sniff_container(b"hello, this is not a video") is None


def test_probe_reads_mp4_headers(mp4):
    meta = recordings.probe_video_metadata(mp4(width=1280, height=720, duration_ms=8000, fps=30))
    assert meta == {
        "Format": "QuickTime / MOV",
        "ColorRange": "LIMITED",
        "DurationMillis": 8000,
        "FrameWidth": 1280,
        "FrameHeight": 720,
        "Codec": "h264",
        "FrameRate": 30.0,
    }
    assert recordings.probe_video_metadata(mp4(codec=b"hvc1"))["Codec"] == "hevc"
    assert recordings.probe_video_metadata(b"\x00\x00\x00\x18ftypmp42" + b"\xff" * 20) is None


def test_the_kits_sample_video_matches_its_recording():
    import hashlib

    video = default_recordings_dir().parent / "media" / "moderation-sample.mp4"
    if not video.exists():
        pytest.skip("no sample video in datasets/media yet")
    sha = hashlib.sha256(video.read_bytes()).hexdigest()
    recording, why = recordings.match_recording(default_recordings_dir(), sha, video.name)
    assert recording is not None and "SHA-256" in why, why
    probed = recordings.probe_video_metadata(video.read_bytes())
    assert probed is not None
    for key in ("Codec", "FrameWidth", "FrameHeight"):
        assert probed[key] == recording.video_metadata[key]


def test_importing_the_package_has_no_side_effects():
    import subprocess
    import sys

    code = (
        "import sys, helpers.offline as o; "
        "assert not any(m.split('.')[0] in ('moto', 'boto3', 'botocore') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith(('moto', 'boto')));"
        "assert o.OFFLINE_ACCESS_KEY_ID == 'ASIAVMKOFFLINE000001'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
