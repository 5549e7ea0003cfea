#!/usr/bin/env python3
"""Make ``datasets/sample_reviews.json``: A2I outputs of two reviewed runs of the sample media.

Notebook 08 learns from them when no reviewed run is found yet (a fresh Studio, a room without
AWS accounts), and tests read them. They are what the lab would produce with the ``lab-v7``
rules, an audit sample of half the unflagged items, and two reviewers per task answering from
``datasets/truth.json`` (the ground-truth reviewer, ``helpers/offline/truth.py``) with
accuracies 0.95 and 0.8:

* run ``sample-run-1``: the sample video, one loop;
* run ``sample-run-2``: its three clips, one loop each.

Usage::

    python datasets/make_sample_reviews.py          # -> datasets/sample_reviews.json
    python datasets/make_sample_reviews.py --check  # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # helpers, when the kit is not installed

import pandas as pd  # noqa: E402

from helpers import learn, moderation, review, segments  # noqa: E402
from helpers.offline import recordings, truth  # noqa: E402
from helpers.rules import RuleSet, apply_rules  # noqa: E402

OUT = HERE / "sample_reviews.json"
RULES = "lab-v7"
AUDIT_FRACTION = 0.5
ACCURACIES = (0.95, 0.8)
RUNS = {
    "sample-run-1": ["moderation-sample"],
    "sample-run-2": ["clip-1", "clip-2", "clip-3"],
}


def run_outputs(run: str, videos: list[str], seed: int) -> list[dict]:
    rules = RuleSet.load(RULES)
    outputs = []
    for number, stem in enumerate(videos, 1):
        recording = json.loads((HERE / "recordings" / f"{stem}.json").read_text())
        labels = moderation.labels_frame(
            recordings.filter_rows(recording["ModerationLabels"], 50.0)
        )
        items = segments.review_items(apply_rules(labels, rules), 1500)
        audit = learn.audit_sample(
            labels, rules, AUDIT_FRACTION, seed=seed + number, flagged_items=items
        )
        both = pd.concat([items, audit[items.columns]], ignore_index=True)
        docs = review.plan_loop_inputs(
            both,
            video_s3_uri=f"s3://sample-bucket/video-moderation-kit/{run}/videos/{stem}.mp4",
            title=f"{stem}.mp4",
            duration_ms=int(recording["VideoMetadata"]["DurationMillis"]),
            rules_name=rules.name,
        )
        for index, doc in enumerate(learn.mark_audit(docs, audit)):
            name = f"{run}-{stem}-{index}"
            outputs.append(
                truth.output_document(
                    doc, loop_name=name, accuracies=ACCURACIES, task_count=2, seed=name
                )
            )
    return outputs


def build() -> dict:
    runs = {run: run_outputs(run, videos, 100 * k) for k, (run, videos) in enumerate(RUNS.items())}
    return {
        "schema": "vmk-sample-reviews/1",
        "generator": "datasets/make_sample_reviews.py",
        "note": (
            f"rules {RULES}, audit fraction {AUDIT_FRACTION}, two ground-truth reviewers with "
            f"accuracies {', '.join(map(str, ACCURACIES))}"
        ),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the committed file")
    args = parser.parse_args(argv)
    text = json.dumps(build(), indent=None, ensure_ascii=False) + "\n"
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print("out of date: sample_reviews.json — run python datasets/make_sample_reviews.py")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    loops = sum(len(v) for v in json.loads(text)["runs"].values())
    print(f"{OUT.relative_to(HERE)}: {loops} loops, {len(text):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
