"""The learning module wired into the lab: the audit sample in the loop input (04), peaks and
detections in every item (the reviewer's page draws them), changes read in 05, one results store
for clean up's export and notebook 08."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from learn_support import sample_labels

from helpers import answers, demo, learn, learn_store, loops, review, segments, tuner
from helpers.rules import RuleSet

VIDEO = {"s3_uri": "s3://bucket/video-moderation-kit/r1/input/sample.mp4", "title": "Sample"}


def _requests(audit_fraction: float):
    labels = sample_labels()
    rules = RuleSet.load("lab-v7")
    result = tuner.tune(labels, rules, 1500, plot=False)
    audit = result.items.iloc[:0]
    if audit_fraction:
        audit = learn.audit_sample(labels, rules, audit_fraction, flagged_items=result.items)
    args = {"run_id": "r1", "video": VIDEO, "duration_ms": result.duration_ms}
    return result, audit, loops.requests(result.items, rules_name=rules.name, audit=audit, **args)


def test_items_carry_their_peak_and_detection_times():
    items = segments.review_items(sample_labels(), 1500)
    for item in items.itertuples():
        times = item.detections_ms
        assert times == sorted(times) and len(times) >= 1
        assert item.start_ms <= item.peak_ms <= item.end_ms and item.peak_ms in times
        assert item.start_ms == times[0] and item.end_ms == times[-1]  # TIMESTAMPS: instants


def test_loop_input_carries_peak_and_thinned_detections():
    _, _, (request,) = _requests(0.0)
    doc = json.loads(request["InputContent"])
    for item in doc["items"]:
        assert item["start_ms"] <= item["peak_ms"] <= item["end_ms"]
        assert len(item["detections_ms"]) <= review.MAX_DETECTIONS_MS
        assert item["peak_ms"] in item["detections_ms"]
    assert "audit" not in doc


def test_a_long_item_keeps_few_detection_times_and_its_first_last_and_peak():
    times = list(range(0, 6 * 3600 * 1000, 500))  # one label every 500 ms for six hours
    thinned = review.thin_times(times, peak=times[12345])
    assert len(thinned) <= review.MAX_DETECTIONS_MS
    assert thinned[0] == 0 and thinned[-1] == times[-1] and times[12345] in thinned
    assert review.thin_times([3, 1, 2]) == [1, 2, 3]
    gaps = np.diff(thinned)
    assert gaps.max() < 3 * len(times) * 500 / review.MAX_DETECTIONS_MS  # evenly spread


def test_audit_items_join_the_review_marked_and_are_read_back_as_audit():
    result, audit, requests = _requests(0.5)
    assert len(audit) and len(requests) == 1
    doc = json.loads(requests[0]["InputContent"])
    marked = {i["id"] for i in doc["items"] if i.get("audit") is True}
    assert marked == set(audit["id"])
    assert len(doc["items"]) == len(result.items) + len(audit)
    assert {s["category"] for s in doc["audit"]["strata"]} == set(audit["category"])
    # the loop's output, answered: the results store finds the audit items and their weights
    items = [answers.answer_item(i["id"], "violation") for i in doc["items"]]
    content = answers.answer_content(answers.review_document(items))
    output = {"humanLoopName": requests[0]["HumanLoopName"], "inputContent": doc}
    output["humanAnswers"] = [{"workerId": "w0", "answerContent": content}]
    verdicts = learn_store.verdicts_from_output(output, "r1")
    assert set(verdicts.loc[verdicts["audit"], "id"]) == set(audit["id"])
    assert (verdicts.loc[verdicts["audit"], "weight"] >= 1).all()
    assert len(learn.missed_violations(verdicts)) == audit["category"].nunique()


def test_no_audit_changes_nothing():
    _, _, plain = _requests(0.0)
    result, _, again = _requests(0.0)
    assert plain == again and plain[0]["items"] == len(result.items)


def _output(answer: dict) -> dict:
    item = {"id": "i-1", "label": "Drinking", "category": "Alcohol", "start_ms": 1000}
    item["end_ms"] = 2000
    return {
        "humanLoopName": "vmk-loop-r1-x",
        "inputContent": {"video": {"title": "Sample"}, "items": [item]},
        "humanAnswers": [
            {"workerId": "w0", "answerContent": {"review": json.dumps(answer)}},
        ],
    }


def test_changes_lists_adjusted_and_added_items_per_worker():
    answer = {
        "schema": "vmk-review/2",
        "items": [
            {"id": "i-1", "verdict": "violation", "category": None, "start_ms": 1200}
            | {"end_ms": 2500, "adjusted": True}
        ],
        "added": [
            {"id": "added-1", "label": "Gambling", "category": "Gambling", "start_ms": 4000}
            | {"end_ms": 5000, "note": "cards"}
        ],
        "notes": "",
    }
    table = loops.changes([_output(answer)])
    assert list(table["change"]) == ["added", "adjusted"]
    added, adjusted = table.iloc[0], table.iloc[1]
    assert (added["video"], added["worker"], added["label"], added["from_s"]) == (
        "Sample",
        "w0",
        "Gambling",
        4.0,
    )
    assert pd.isna(added["input_from_s"])
    assert (adjusted["from_s"], adjusted["to_s"]) == (1.2, 2.5)
    assert (adjusted["input_from_s"], adjusted["input_to_s"]) == (1.0, 2.0)


def test_changes_is_empty_for_answers_without_changes():
    v1 = {"schema": "vmk-review/1", "items": [{"id": "i-1", "verdict": "violation"}]}
    assert loops.changes([_output(v1)]).empty
    assert loops.changes([]).empty and "change" in loops.changes([]).columns


def test_results_store_root(monkeypatch, tmp_path):
    monkeypatch.delenv(learn_store.ROOT_VARIABLE, raising=False)
    assert learn_store.default_root() == demo.ROOT / "results"  # not the kernel's cwd
    monkeypatch.chdir(tmp_path)
    assert learn_store.default_root() == demo.ROOT / "results"
    monkeypatch.setenv(learn_store.ROOT_VARIABLE, str(tmp_path / "store"))
    assert learn_store.default_root() == tmp_path / "store"
    assert learn_store.default_root(tmp_path / "given") == tmp_path / "given"


def test_demo_and_test_kernels_keep_results_out_of_the_repository(tmp_path):
    env = demo.kernel_environment({"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, tmp_path)
    assert env[learn_store.ROOT_VARIABLE] == str(tmp_path / "results")


def test_exported_raw_files_are_read_when_a_run_has_no_parquet(tmp_path):
    _, _, (request,) = _requests(0.0)
    doc = json.loads(request["InputContent"])
    items = [answers.answer_item(i["id"], "not_violation") for i in doc["items"]]
    output = {"humanLoopName": request["HumanLoopName"], "inputContent": doc}
    output["humanAnswers"] = [
        {"workerId": "w0", "answerContent": answers.answer_content(answers.review_document(items))}
    ]
    raw = tmp_path / "run-1" / "raw"
    raw.mkdir(parents=True)
    (raw / f"{request['HumanLoopName']}.json").write_text(json.dumps(output))
    loaded = learn_store.load_results(tmp_path)
    assert loaded.problems.empty and set(loaded.verdicts["run"]) == {"run-1"}
    assert len(loaded.verdicts) == len(doc["items"])


@pytest.mark.parametrize("name", ["08_learn_from_reviews.ipynb", "09_clean_up.ipynb"])
def test_learning_runs_before_clean_up_in_name_order(name):
    names = [p.name for p in demo.notebook_paths()]
    assert names.index("06_many_videos.ipynb") < names.index(name)
    assert names.index("08_learn_from_reviews.ipynb") < names.index("09_clean_up.ipynb")
    assert names == sorted(names) and names[-1] == "09_clean_up.ipynb"
