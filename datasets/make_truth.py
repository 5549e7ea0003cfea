#!/usr/bin/env python3
"""Make ``datasets/truth.json``: what each scene of the sample video and of its clips really shows.

The offline stand-in's ground-truth reviewer (``helpers/offline/truth.py``) answers a review
from this file, so the offline lab learns meaningful numbers. For every scene it lists the
labels the scene shows, when they are in view (the ``on`` intervals of ``sample_scenes.json``,
in ms) and the verdict a careful moderator gives under the kit's sample policy (below):
``violation``, ``not_violation`` (the label is right but the moment is acceptable), or a v7
label (Rekognition named the wrong label: ``wrong_category`` with that label).

Usage::

    python datasets/make_truth.py          # -> datasets/truth.json
    python datasets/make_truth.py --check  # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _scenes  # noqa: E402
from make_clips import PARTS  # noqa: E402

OUT = HERE / "truth.json"
SCHEMA = "vmk-truth/1"
#: The sample policy: alcohol, weapons, violence, tobacco, gambling and rude gestures violate it;
#: a shirtless man on a beach (scene 3) does not, though Rekognition is right that he is
#: shirtless: the lab's rule on Exposed Male Nipple flags moments the policy accepts.
POLICY = {
    "Alcoholic Beverages": "violation",
    "Drinking": "violation",
    "Exposed Male Nipple": "not_violation",
    "Bare Back": "not_violation",
    "Male Swimwear or Underwear": "not_violation",
    "Weapons": "violation",
    "Explosions and Blasts": "violation",
    "Smoking": "violation",
    "Gambling": "violation",
    "Middle Finger": "violation",
}
POLICY_TEXT = (
    "The kit's sample policy: alcohol, weapons, graphic violence, smoking, gambling and rude "
    "gestures are violations; swimwear and a bare chest on a beach are not."
)


def scenes_of(scenes: _scenes.SceneList, start_s: float = 0.0, end_s: float | None = None) -> list:
    """The scenes within ``[start_s, end_s)``, clipped and shifted to start at 0 (in ms)."""
    end_s = scenes.duration_s if end_s is None else end_s
    out = []
    for scene in scenes.scenes:
        a, b = max(scene.start_s, start_s), min(scene.end_s, end_s)
        if a >= b:
            continue
        shows = []
        for spec in scene.labels:
            if spec.name not in POLICY:
                sys.exit(f"{scene.id}: no verdict for {spec.name!r} in POLICY; add one")
            on = [
                [round((max(x, a) - start_s) * 1000), round((min(y, b) - start_s) * 1000)]
                for x, y in spec.on
                if min(y, b) > max(x, a)
            ]
            if on:
                shows.append(
                    {"label": spec.name, "level": spec.level, "on": on, "truth": POLICY[spec.name]}
                )
        out.append(
            {
                "scene": scene.id,
                "start_ms": round((a - start_s) * 1000),
                "end_ms": round((b - start_s) * 1000),
                "shows": shows,
            }
        )
    return out


def build() -> dict:
    scenes = _scenes.load()
    videos = {"moderation-sample.mp4": scenes_of(scenes)}
    for name, start, end in PARTS:
        videos[name] = scenes_of(scenes, start, end)
    return {
        "schema": SCHEMA,
        "generator": "datasets/make_truth.py",
        "policy": POLICY_TEXT,
        "fields": {
            "label": "a v7 label the scene shows (its parents are implied)",
            "on": "[start_ms, end_ms] intervals when it is in view",
            "truth": "violation, not_violation, or the right v7 label (wrong_category)",
        },
        "videos": videos,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the committed file")
    args = parser.parse_args(argv)
    text = json.dumps(build(), indent=1, ensure_ascii=False) + "\n"
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print("out of date: truth.json — run python datasets/make_truth.py")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT.relative_to(HERE)}: {len(json.loads(text)['videos'])} videos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
