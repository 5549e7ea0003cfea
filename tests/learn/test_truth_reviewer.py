"""The ground-truth reviewer: the truth of the sample media, accuracy per reviewer, the hook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from learn_support import sample_input

from helpers import answers, learn, learn_store, review
from helpers.offline import OfflineSettings, mocked, reviewer, truth
from helpers.offline.settings import AutoReviewPolicy, offline_role_arn

ROOT = Path(__file__).resolve().parents[2]


def test_committed_truth_and_sample_reviews_are_current():
    for script in ("make_truth.py", "make_sample_reviews.py"):
        done = subprocess.run(
            [sys.executable, str(ROOT / "datasets" / script), "--check"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_truth_covers_every_labelled_scene_of_the_sample_and_clips():
    videos = truth.load()
    assert set(videos) == {"moderation-sample.mp4", "clip-1.mp4", "clip-2.mp4", "clip-3.mp4"}
    sample = {s["scene"]: s for s in videos["moderation-sample.mp4"]}
    assert len(sample) == 8 and sample["s1-opening"]["shows"] == []
    beach = {x["label"]: x["truth"] for x in sample["s3-beach"]["shows"]}
    assert beach["Exposed Male Nipple"] == "not_violation"
    # the clips are the sample cut at 18 s and 36 s, shifted to start at 0
    clip2 = {s["scene"]: s for s in videos["clip-2.mp4"]}
    assert clip2["s4-soldier"]["start_ms"] == 21_000 - 18_000


def test_true_verdicts_of_the_sample_items():
    doc, _ = sample_input()
    scenes = truth.video_scenes(doc)
    by_label = {}
    for item in doc["items"]:
        by_label.setdefault(item["label"], set()).add(truth.true_verdict(item, scenes)[0])
    assert by_label["Drinking"] == {"violation"}
    assert by_label["Exposed Male Nipple"] == {"not_violation"}
    # an item at a moment where the label is not in view is not a violation
    ghost = {"id": "x", "label": "Weapons", "start_ms": 2000, "end_ms": 3000}
    assert truth.true_verdict(ghost, scenes) == ("not_violation", "")
    # a parent label's item takes the verdict of what is in view below it
    parent = {"id": "y", "label": "Alcohol", "start_ms": 8000, "end_ms": 9000}
    assert truth.true_verdict(parent, scenes) == ("violation", "")


def test_accuracy_is_per_reviewer_and_seeded():
    doc, _ = sample_input()
    doc = {**doc, "items": doc["items"] * 1}

    def verdicts(worker: int, seed: str) -> list[str]:
        items, _ = truth.answer_items(doc, worker=worker, accuracies=(1.0, 0.0), seed=seed)
        return [i["verdict"] for i in items]

    truths = [truth.true_verdict(i, truth.video_scenes(doc))[0] for i in doc["items"]]
    assert verdicts(0, "s") == truths  # accuracy 1: the truth
    flipped = {"violation": "not_violation", "not_violation": "violation"}
    assert verdicts(1, "s") == [flipped[t] for t in truths]  # accuracy 0: always wrong
    assert verdicts(7, "s") == verdicts(1, "s")  # workers beyond the list use its last entry
    # a reviewer at 0.8 errs on about a fifth of many items, the same ones for the same seed
    many = [truth.errs("seed", 0, f"i{k}", 0.8) for k in range(4000)]
    assert 0.18 < sum(many) / len(many) < 0.22
    assert many == [truth.errs("seed", 0, f"i{k}", 0.8) for k in range(4000)]


def test_unknown_video_is_answered_unsure_not_guessed():
    doc = {"video": {"s3_uri": "s3://b/other.mp4", "title": "other"}, "items": [{"id": "a"}]}
    items, note = truth.answer_items(doc)
    assert [i["verdict"] for i in items] == ["unsure"]
    assert "no truth" in note


def test_settings_accept_the_truth_policy_and_reviewer_accuracies():
    settings = OfflineSettings(auto_review="truth", reviewer_accuracy=[0.9, "0.7"])
    assert settings.auto_review is AutoReviewPolicy.TRUTH
    assert settings.reviewer_accuracy == (0.9, 0.7)
    assert OfflineSettings(reviewer_accuracy=1).reviewer_accuracy == (1.0,)
    for bad in ([], [1.5], ["x"], [True], None):
        with pytest.raises(ValueError, match="reviewer_accuracy"):
            settings.update({"reviewer_accuracy": bad})
    assert settings.to_dict()["reviewer_accuracy"] == (0.9, 0.7)


def test_reviewer_hook_answers_from_the_truth():
    doc, _ = sample_input()
    with mocked(OfflineSettings.instant(auto_review="truth", reviewer_accuracy=[1.0])):
        content = reviewer.answer_content(doc, AutoReviewPolicy.TRUTH, worker=0, seed="loop")
    parsed = answers.parse_answer_content(content, doc["items"])
    scenes = truth.video_scenes(doc)
    assert [i["verdict"] for i in parsed["items"]] == [
        truth.true_verdict(i, scenes)[0] for i in doc["items"]
    ]


def test_stand_in_loop_with_audit_items_is_answered_and_read_back():
    """An input carrying ``audit: true`` items passes the stand-in and the answer's checks."""
    doc, audit = sample_input(audit_fraction=0.5)
    assert len(audit) and sum(bool(i.get("audit")) for i in doc["items"]) == len(audit)
    output, from_s3 = _answered_by_the_stand_in(doc, "learn1", accuracies=[1.0])
    verdicts = learn_store.verdicts_from_output(output, run="learn1")
    assert from_s3.problems.empty
    pd.testing.assert_frame_equal(from_s3.verdicts, verdicts)
    assert verdicts["audit"].sum() == len(audit)
    scenes = truth.video_scenes(doc)
    expected = {i["id"]: truth.true_verdict(i, scenes)[0] for i in doc["items"]}
    assert dict(zip(verdicts["id"], verdicts["verdict"], strict=True)) == expected
    # what the audit finds: violations the lab's rules let through (weapons, smoking, ...)
    missed = learn.missed_violations(verdicts)
    assert missed["violations"].sum() > 0


def test_learn_reads_the_frame_of_helpers_review_verdicts_as_it_is():
    from learn_support import sample_labels

    from helpers import segments
    from helpers.rules import RuleSet, apply_rules

    items = segments.review_items(apply_rules(sample_labels(), RuleSet.load("lab-v7")), 1500)
    [doc] = review.plan_loop_inputs(
        items,
        video_s3_uri="s3://b/moderation-sample.mp4",
        title="moderation-sample.mp4",
        duration_ms=54_000,
        rules_name="lab-v7",
    )
    output = truth.output_document(doc, loop_name="loop", accuracies=(1.0,))
    table = learn.precision(review.verdicts(items, output)).set_index("category")
    assert table.loc["Alcohol", "precision"] == 1.0
    assert table.loc["Non-Explicit Nudity of Intimate parts and Kissing", "precision"] == 0.0


def test_each_reviewer_of_a_loop_answers_with_their_own_accuracy():
    """With TaskCount 2, the stand-in's two truth reviewers answer apart: one at accuracy 1
    gives the truth, one at accuracy 0 gives its opposite (no identical copies)."""
    doc, _ = sample_input()
    output, _ = _answered_by_the_stand_in(doc, "learn2", accuracies=[1.0, 0.0], task_count=2)
    verdicts = learn_store.verdicts_from_output(output, run="learn2")
    assert verdicts["worker"].nunique() == 2
    scenes = truth.video_scenes(doc)
    expected = {i["id"]: truth.true_verdict(i, scenes)[0] for i in doc["items"]}
    flipped = {"violation": "not_violation", "not_violation": "violation"}
    by_worker = [group for _, group in verdicts.groupby("worker", sort=False)]
    decided = {i for i, v in expected.items() if v in flipped}
    assert decided, "the sample has items whose truth is a violation or not"
    answers_of = [dict(zip(g["id"], g["verdict"], strict=True)) for g in by_worker]
    right = [a for a in answers_of if all(a[i] == expected[i] for i in decided)]
    wrong = [a for a in answers_of if all(a[i] == flipped[expected[i]] for i in decided)]
    assert len(right) == 1 and len(wrong) == 1


def _answered_by_the_stand_in(
    doc: dict, run: str, *, accuracies: list[float], task_count: int = 1
) -> tuple[dict, learn_store.Loaded]:
    """One loop of ``doc`` answered by the stand-in's truth reviewers: its output.json, and the
    run read back from S3 by the results store's reader."""
    settings = OfflineSettings.instant(auto_review="truth", reviewer_accuracy=accuracies)
    with mocked(settings) as aws:
        s3, sm, a2i = (aws.client(s) for s in ("s3", "sagemaker", "sagemaker-a2i-runtime"))
        s3.create_bucket(Bucket="vmk-learn-tests")
        team = review.find_workteam(sm)
        ui = review.ensure_task_ui(sm, run, review.load_template())
        config = review.flow_definition_config(
            workteam_arn=team["WorkteamArn"],
            task_ui_arn=ui,
            role_arn=offline_role_arn(),
            output_path=f"s3://vmk-learn-tests/video-moderation-kit/{run}/a2i-output",
            task_count=task_count,
        )
        flow = review.ensure_flow_definition(sm, run, config)
        loop = review.start_human_loop(a2i, flow["FlowDefinitionArn"], run, doc)
        review.wait_for_human_loop(a2i, loop["HumanLoopName"], timeout=30)
        output = review.read_output(s3, a2i, loop["HumanLoopName"])
        from_s3 = learn_store.read_s3_outputs(
            s3, "vmk-learn-tests", learn_store.run_prefix(run), run=run
        )
    return output, from_s3
