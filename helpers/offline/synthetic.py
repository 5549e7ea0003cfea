"""Synthetic moderation results for videos of any length (long-video tests and benchmarks).

A recording file may describe its rows instead of listing them::

    {"video": {"file": "feature-6h.mp4"},
     "ModerationModelVersion": "7.0",
     "VideoMetadata": {"DurationMillis": 21600000, ...},
     "synthetic": {"seed": 7, "bursts_per_minute": 4, "mean_burst_s": 20}}

The stand-in then generates TIMESTAMPS rows shaped like Rekognition's: irregular sub-second
sampling, labels in bursts (a scene with a bottle, a fight) whose confidence rises and falls,
and each label's parent categories as rows of their own at the same moment. The same spec
always gives the same rows. Pair it with :func:`helpers.mp4.header_only` to upload a "6-hour
film" of a few hundred bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers import taxonomy

#: Labels a burst can be about, with relative weights (common things first).
_WEIGHTS = {
    "Drinking": 6,
    "Alcoholic Beverages": 6,
    "Smoking": 5,
    "Weapons": 5,
    "Physical Violence": 3,
    "Explosions and Blasts": 2,
    "Male Swimwear or Underwear": 4,
    "Female Swimwear or Underwear": 4,
    "Exposed Male Nipple": 3,
    "Bare Back": 2,
    "Kissing on the Lips": 3,
    "Gambling": 2,
    "Middle Finger": 1,
    "Blood & Gore": 1,
    "Pills": 1,
    "Corpses": 1,
}


def rows(
    duration_ms: int,
    *,
    seed: int = 0,
    bursts_per_minute: float = 4.0,
    mean_burst_s: float = 20.0,
    sample_ms: int = 500,
    jitter_ms: int = 100,
) -> list[dict[str, Any]]:
    """TIMESTAMPS-mode ModerationLabels rows for a video of ``duration_ms``, sorted by time.

    Confidences run from about 40 to 99 (the stand-in applies MinConfidence itself).
    """
    rng = np.random.default_rng(seed)
    names = list(_WEIGHTS)
    weights = np.array([_WEIGHTS[n] for n in names], dtype=float)
    weights /= weights.sum()
    count = rng.poisson(bursts_per_minute * duration_ms / 60_000)
    starts = np.sort(rng.uniform(0, duration_ms, count)).astype(np.int64)
    lengths = np.clip(rng.lognormal(np.log(mean_burst_s * 1000) - 0.5, 1.0, count), 600, 600_000)
    labels = rng.choice(len(names), size=count, p=weights)
    peaks = rng.uniform(55, 99.5, count)

    out: list[tuple[int, int, str, str, float]] = []
    for start, length, label_index, peak in zip(starts, lengths, labels, peaks, strict=True):
        end = min(duration_ms - 1, int(start + length))
        steps = rng.integers(
            sample_ms - jitter_ms,
            sample_ms + jitter_ms + 1,
            size=max(1, int(length // (sample_ms - jitter_ms)) + 1),
        )
        times = start + np.cumsum(steps) - steps[0]
        times = times[times <= end]
        if times.size == 0:
            continue
        phase = (times - start) / max(1, end - start)
        shape = np.sin(np.pi * np.clip(phase, 0, 1)) ** 0.5
        conf = np.clip(40 + (peak - 40) * shape + rng.normal(0, 3, times.size), 40.0, 99.9)
        name = names[label_index]
        level = taxonomy.level(name)
        chain = (name, *taxonomy.ancestors(name, level))
        for t, c in zip(times.tolist(), conf.tolist(), strict=True):
            # ancestors report at least the child's confidence, a little more
            value = c
            for depth, label in enumerate(chain):
                lvl = level - depth
                out.append((int(t), lvl, label, taxonomy.parent(label, lvl), round(value, 4)))
                value = min(99.99, value + abs(rng.normal(0.5, 0.5)))
    out.sort(key=lambda r: (r[0], r[1]))
    return [
        {
            "Timestamp": t,
            "ModerationLabel": {
                "Confidence": conf,
                "Name": name,
                "ParentName": parent,
                "TaxonomyLevel": lvl,
            },
            "ContentTypes": [],
        }
        for t, lvl, name, parent, conf in out
    ]


def metadata(
    duration_ms: int, width: int = 1920, height: int = 1080, fps: float = 24.0
) -> dict[str, Any]:
    """VideoMetadata for a synthetic video."""
    return {
        "Codec": "h264",
        "DurationMillis": int(duration_ms),
        "Format": "QuickTime / MOV",
        "FrameRate": fps,
        "FrameHeight": height,
        "FrameWidth": width,
        "ColorRange": "LIMITED",
    }
