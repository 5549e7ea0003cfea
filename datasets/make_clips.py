#!/usr/bin/env python3
"""Cut the sample video into three clips, with a recording for each, for the many-videos step.

Each clip is an exact stream copy of an 18-second part of ``media/moderation-sample.mp4``
(the sample has a key frame every 2 s, so the cuts need no re-encoding), and its recording is
the sample's recording restricted to that part, with timestamps shifted to the clip's start.

Usage::

    python datasets/make_clips.py          # -> media/clips/clip-{1,2,3}.mp4, recordings/clip-*.json
    python datasets/make_clips.py --check  # exit 1 if a committed recording is out of date
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # helpers, when the kit is not installed

from helpers import mp4  # noqa: E402

SAMPLE = HERE / "media" / "moderation-sample.mp4"
SAMPLE_RECORDING = HERE / "recordings" / "moderation-sample.json"
CLIPS = HERE / "media" / "clips"
RECORDINGS = HERE / "recordings"
#: (name, start s, end s): three parts of the 54-second sample.
PARTS = (("clip-1.mp4", 0, 18), ("clip-2.mp4", 18, 36), ("clip-3.mp4", 36, 54))


def cut(start: int, end: int, out: Path) -> None:
    """Stream-copy ``[start, end)`` of the sample into ``out`` (faststart MP4), atomically."""
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is missing: apt-get install ffmpeg")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / out.name
        subprocess.run(
            [
                "ffmpeg", "-loglevel", "error", "-y", "-ss", str(start), "-i", str(SAMPLE),
                "-t", str(end - start), "-c", "copy", "-map_metadata", "-1",
                "-movflags", "+faststart", "-fflags", "+bitexact", str(part),
            ],
            check=True,
        )  # fmt: skip
        part.replace(out)


def recording(name: str, start: int, end: int, clip: Path) -> dict:
    """The sample's recording for ``[start, end)`` s, shifted to start at 0."""
    sample = json.loads(SAMPLE_RECORDING.read_text())
    rows = []
    for row in sample["ModerationLabels"]:
        if start * 1000 <= row["Timestamp"] < end * 1000:
            shifted = copy.deepcopy(row)
            shifted["Timestamp"] = row["Timestamp"] - start * 1000
            rows.append(shifted)
    probed = mp4.probe_file(clip) or {}
    metadata = dict(sample["VideoMetadata"], DurationMillis=probed.get("DurationMillis", 0))
    return {
        "video": {"file": name, "sha256": hashlib.sha256(clip.read_bytes()).hexdigest()},
        "ModerationModelVersion": sample["ModerationModelVersion"],
        "VideoMetadata": metadata,
        "ModerationLabels": rows,
        "generator": "datasets/make_clips.py",
        "note": f"moderation-sample.json from {start} s to {end} s, shifted to 0",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the recordings")
    args = parser.parse_args(argv)
    stale = []
    for name, start, end in PARTS:
        clip = CLIPS / name
        if not args.check:
            cut(start, end, clip)
        doc = recording(name, start, end, clip)
        target = RECORDINGS / f"{Path(name).stem}.json"
        text = json.dumps(doc, indent=1) + "\n"
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(target.name)
            continue
        target.write_text(text)
        rows = len(doc["ModerationLabels"])
        print(f"{clip.relative_to(HERE)}: {clip.stat().st_size:,} bytes, {rows} rows")
    if stale:
        print(f"out of date: {', '.join(stale)} — run python datasets/make_clips.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
