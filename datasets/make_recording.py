#!/usr/bin/env python3
"""Make the recorded Rekognition result the offline stand-in replays for the sample video.

Reads the scene list (``sample_scenes.json``) and the video file, and writes a synthetic
GetContentModeration response in TIMESTAMPS mode with the v7 taxonomy::

    {"video": {"file": "moderation-sample.mp4", "sha256": "<hex of the file's bytes>"},
     "ModerationModelVersion": "7.0",
     "VideoMetadata": {Codec, DurationMillis, Format, FrameRate, FrameHeight, FrameWidth,
                       ColorRange},
     "ModerationLabels": [{"Timestamp": ms, "ModerationLabel": {"Confidence", "Name",
                           "ParentName", "TaxonomyLevel"}, "ContentTypes": []}, ...],
     "generator": "datasets/make_recording.py", "note": "..."}

How it imitates the service:

* moments are sampled irregularly, every 400-600 ms (configurable in the scene file), on frame
  boundaries; moments where nothing is detected produce no rows;
* each label's confidence rises and falls over every interval it is "in view", with Gaussian
  noise, and fades out within ``fade_s`` outside it: edges give rows between 40 and 50, which
  the service's default MinConfidence (50) drops, and the stand-in applies MinConfidence itself;
* every level-3 row comes with its level-2 parent and level-1 grandparent at the same Timestamp
  (a level-2 row with its level-1 parent); a parent's confidence is at least its children's,
  and now and then a parent fires alone (the child's row missing or below ``report_min``);
* rows are sorted by Timestamp, then TaxonomyLevel, then Name.

The output is deterministic: a seeded RNG (``recording.seed`` in the scene file or ``--seed``).
VideoMetadata comes from ffprobe; without ffprobe the metadata of an existing recording of the
very same file (same sha256) is reused.

Usage::

    python datasets/make_recording.py            # -> datasets/recordings/moderation-sample.json
    python datasets/make_recording.py --check    # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _scenes  # noqa: E402
from _scenes import taxonomy  # noqa: E402

DEFAULT_VIDEO = HERE / "media" / "moderation-sample.mp4"
DEFAULT_OUT = HERE / "recordings" / "moderation-sample.json"
GENERATOR = "datasets/make_recording.py"
NOTE = "synthetic recording shaped like GetContentModeration TIMESTAMPS output"
#: Confidence ceilings: a leaf never reports more than MAX_LEAF, a parent never more than MAX_ANY.
MAX_LEAF = 99.9
MAX_ANY = 99.99
#: Confidence reached at the end of the fade outside an interval.
FADE_TO = 30.0
DECIMALS = 6

Key = tuple[str, int]  # (label name, taxonomy level)


class RecordingError(RuntimeError):
    """Something the user must fix; the message says how."""


# --------------------------------------------------------------------------- video facts


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def probe_metadata(path: Path) -> dict[str, object]:
    """VideoMetadata as Rekognition reports it, read with ffprobe."""
    ffprobe = shutil.which("ffprobe")
    if not ffprobe:
        raise RecordingError(
            "ffprobe not found: install the Debian package 'ffmpeg' (sudo apt-get install -y "
            "ffmpeg)"
        )
    out = subprocess.run(
        [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    info = json.loads(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    return {
        "Codec": video["codec_name"],
        "DurationMillis": round(float(info["format"]["duration"]) * 1000),
        "Format": info["format"]["format_long_name"],
        "FrameRate": float(Fraction(video["r_frame_rate"])),
        "FrameHeight": int(video["height"]),
        "FrameWidth": int(video["width"]),
        "ColorRange": "FULL" if video.get("color_range") in ("pc", "jpeg") else "LIMITED",
    }


def video_facts(video: Path, existing: Path | None) -> tuple[str, dict[str, object]]:
    """The sha256 and VideoMetadata of ``video`` (ffprobe, or an existing matching recording)."""
    if not video.is_file():
        raise RecordingError(f"{video} not found: run datasets/make_sample_video.py first")
    digest = sha256_of(video)
    if shutil.which("ffprobe") or existing is None or not existing.is_file():
        return digest, probe_metadata(video)
    old = json.loads(existing.read_text(encoding="utf-8"))
    if old.get("video", {}).get("sha256") != digest:
        raise RecordingError(
            "ffprobe not found and the existing recording describes another file: install the "
            "Debian package 'ffmpeg' (sudo apt-get install -y ffmpeg)"
        )
    print("note: ffprobe not found; reusing VideoMetadata of the existing recording (same sha256)")
    return digest, dict(old["VideoMetadata"])


# --------------------------------------------------------------------------- the signal


def sample_times(duration_ms: int, fps: float, rng: random.Random, lo: int, hi: int) -> list[int]:
    """Irregular, frame-aligned sampling moments in ms: gaps drawn from [lo, hi] ms."""
    frame_ms = 1000.0 / fps
    frame = rng.randint(0, 3)
    times: list[int] = []
    while (ms := round(frame * frame_ms)) < duration_ms:
        times.append(ms)
        frame += max(1, round(rng.uniform(lo, hi) / frame_ms))
    return times


def level_at(spec: _scenes.LabelSpec, t: float, fade_s: float) -> float | None:
    """The noiseless confidence of ``spec`` at ``t`` seconds, None when far from any interval."""
    best: float | None = None
    for a, b in spec.on:
        if a <= t <= b:
            shape = math.sin(math.pi * (t - a) / (b - a)) ** 0.5
            value = spec.floor + (spec.peak - spec.floor) * shape
        else:
            distance = a - t if t < a else t - b
            if distance > fade_s:
                continue
            value = spec.floor - (spec.floor - FADE_TO) * distance / fade_s
        best = value if best is None else max(best, value)
    return best


def _row(ms: int, name: str, lvl: int, confidence: float) -> dict[str, object]:
    return {
        "Timestamp": ms,
        "ModerationLabel": {
            "Confidence": round(confidence, DECIMALS),
            "Name": name,
            "ParentName": taxonomy.parent(name, lvl),
            "TaxonomyLevel": lvl,
        },
        "ContentTypes": [],
    }


def moment_rows(
    ms: int, scenes: _scenes.SceneList, rng: random.Random, specs: list[_scenes.LabelSpec]
) -> list[dict[str, object]]:
    """The rows reported at one sampled moment."""
    params = scenes.recording
    t = ms / 1000.0
    value: dict[Key, float] = {}
    shown: dict[Key, bool] = {}
    for spec in specs:
        base = level_at(spec, t, params.fade_s)
        if base is None:
            continue
        v = min(MAX_LEAF, max(0.0, base + rng.gauss(0.0, spec.noise)))
        key = (spec.name, spec.level)
        dropped = rng.random() < spec.dropout
        if v > value.get(key, -1.0):
            value[key], shown[key] = v, not dropped
    # Parents: at least the strongest child, plus a small margin.
    for lvl in (3, 2):
        for (name, child_level), v in sorted(value.items()):
            if child_level != lvl:
                continue
            key = (taxonomy.parent(name, lvl), lvl - 1)
            candidate = min(MAX_ANY, v + abs(rng.gauss(0.0, 1.2)))
            value[key] = max(value.get(key, -1.0), candidate)
            shown.setdefault(key, True)
    rows = [
        _row(ms, name, lvl, v)
        for (name, lvl), v in value.items()
        if shown[(name, lvl)] and round(v, DECIMALS) >= params.report_min
    ]
    rows.sort(key=lambda r: (r["ModerationLabel"]["TaxonomyLevel"], r["ModerationLabel"]["Name"]))
    return rows


def build_recording(
    scenes: _scenes.SceneList,
    sha256: str,
    metadata: dict[str, object],
    file_name: str = DEFAULT_VIDEO.name,
    seed: int | None = None,
) -> dict[str, object]:
    """The whole recording as a dict (pure: same inputs, same output)."""
    params = scenes.recording
    rng = random.Random(params.seed if seed is None else seed)
    duration_ms = min(int(metadata["DurationMillis"]), round(scenes.duration_s * 1000))
    fps = float(metadata["FrameRate"])
    specs = [spec for scene in scenes.scenes for spec in scene.labels]
    rows: list[dict[str, object]] = []
    for ms in sample_times(duration_ms, fps, rng, params.min_gap_ms, params.max_gap_ms):
        rows.extend(moment_rows(ms, scenes, rng, specs))
    for row in rows:
        label = row["ModerationLabel"]
        if not taxonomy.is_known(label["Name"]):
            raise RecordingError(taxonomy.unknown_message([label["Name"]]))
    return {
        "video": {"file": file_name, "sha256": sha256},
        "ModerationModelVersion": taxonomy.MODEL_VERSION,
        "VideoMetadata": metadata,
        "ModerationLabels": rows,
        "generator": GENERATOR,
        "note": NOTE,
    }


def dumps(recording: dict[str, object]) -> str:
    """Stable JSON text: two-space indent, one ModerationLabels row per line."""
    parts = []
    for key, value in recording.items():
        if key == "ModerationLabels":
            rows = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in value)
            parts.append(f'  "{key}": [\n{rows}\n  ]')
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def summary(recording: dict[str, object], threshold: float = 80.0) -> str:
    """A short, human-readable summary: rows, labels, per-category counts."""
    rows = recording["ModerationLabels"]
    labels = {(r["ModerationLabel"]["Name"], r["ModerationLabel"]["TaxonomyLevel"]) for r in rows}
    per_cat: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        lab = r["ModerationLabel"]
        cat = taxonomy.top_level(lab["Name"], lab["TaxonomyLevel"])
        per_cat[cat]["rows"] += 1
        per_cat[cat][f">={threshold:g}"] += lab["Confidence"] >= threshold
        per_cat[cat]["<50"] += lab["Confidence"] < 50
    stamps = sorted({r["Timestamp"] for r in rows})
    gaps = Counter(b - a for a, b in pairwise(stamps) if b - a < 1000)
    high = sum(r["ModerationLabel"]["Confidence"] >= threshold for r in rows)
    low = sum(r["ModerationLabel"]["Confidence"] < 50 for r in rows)
    lines = [
        f"rows {len(rows)}, distinct labels {len(labels)}, moments {len(stamps)}, "
        f"rows >= {threshold:g}: {high}, rows < 50: {low}",
        f"sub-second gaps (ms: count): {dict(sorted(gaps.items()))}",
        f"{'category':<52}{'rows':>6}{'>=' + format(threshold, 'g'):>6}{'<50':>6}",
    ]
    for cat in taxonomy.TOP_LEVEL:
        if cat in per_cat:
            c = per_cat[cat]
            lines.append(f"{cat:<52}{c['rows']:>6}{c[f'>={threshold:g}']:>6}{c['<50']:>6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenes", type=Path, default=_scenes.SCENES_FILE, help="scene list (sample_scenes.json)"
    )
    parser.add_argument(
        "--video",
        type=Path,
        default=DEFAULT_VIDEO,
        help="the video the recording describes (default: datasets/media/moderation-sample.mp4)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="where to write (default: datasets/recordings/moderation-sample.json)",
    )
    parser.add_argument("--seed", type=int, help="override recording.seed of the scene file")
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if --out differs from what would be generated",
    )
    args = parser.parse_args(argv)
    try:
        scenes = _scenes.load(args.scenes)
        digest, metadata = video_facts(args.video, args.out)
        recording = build_recording(scenes, digest, metadata, args.video.name, args.seed)
    except (RecordingError, _scenes.SceneError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = dumps(recording)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date: run python {GENERATOR}", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    write_atomic(args.out, text)
    print(f"wrote {args.out} (video sha256 {digest[:12]}…)")
    print(summary(recording))
    return 0


if __name__ == "__main__":
    sys.exit(main())
