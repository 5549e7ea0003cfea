"""Keep faith with the reviewers: every completed loop is read and exported, never all or none."""

import json

import lab_steps as steps
import pytest
from lab_steps import SAMPLE, until_items

from helpers import cleanup, learn_store, loops, state
from helpers.offline import OfflineSettings, faults, mocked
from helpers.rules import RuleSet
from helpers.session import connect


@pytest.fixture
def aws(tmp_path, monkeypatch):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    monkeypatch.setattr("helpers.waiting.time.sleep", lambda s: None)
    settings = OfflineSettings(
        job_seconds=0, flow_definition_seconds=0, answer_after_describes=1, auto_review="mixed"
    )
    with mocked(settings) as stand_in:
        yield stand_in


@pytest.fixture
def session(aws):
    s = connect(run_id="keep01")
    state.record("session", {"run_id": s.run_id})
    return s


def _export_and_clean(session, folder):
    exported = cleanup.export_results(
        session.sagemaker, session.a2i, session.s3, session.run_id, folder
    )
    steps.clean_up(session)
    return exported


def test_retune_then_clean_up_keeps_and_exports_the_first_loops_verdicts(aws, session, tmp_path):
    rules, _, items = until_items(session)
    first = steps.start_review(session, items, rules)["HumanLoopName"].tolist()
    steps.wait_for_review(session)  # the reviewer answers the first loop
    broad = RuleSet.load("broadcast-standard")
    _, other_items = steps.review_items(session, broad)
    second = steps.start_review(session, other_items, broad)["HumanLoopName"].tolist()
    assert first != second
    superseded = loops.stop_superseded(
        session.sagemaker, session.a2i, session.run_id, state.require("video")["s3_uri"], second
    )
    assert superseded["action"].str.startswith("kept").all()  # answered: kept, not stopped
    steps.wait_for_review(session)
    found = steps.read_outputs(session)
    assert {o["humanLoopName"] for o in found.outputs} == set(first + second)
    assert found.problems.empty

    exported = _export_and_clean(session, tmp_path / "results")
    target = tmp_path / "results" / session.run_id
    assert sorted(p.stem for p in (target / "raw").glob("*.json")) == sorted(first + second)
    saved = (target / "verdicts.csv").read_text()
    assert all(name in saved for name in first), "the first loop's verdicts are exported"
    # the raw files, verdicts.csv, verdicts.parquet (the results store) and problems.csv
    assert len(exported) == len(first + second) + 3
    stored = learn_store.load_results(tmp_path / "results").verdicts
    assert set(stored["loop"]) == set(first + second) and set(stored["run"]) == {"keep01"}
    assert steps.leftovers(session).empty
    kept = steps.clean_up(session, dry_run=True)
    assert len(kept) == len(first + second) and kept["action"].str.startswith("keep").all()
    assert cleanup.left_behind(kept, session.run_id) == (
        f"Nothing of run keep01 is left behind; {len(kept)} answer file(s) stay in S3 as asked."
    )
    # running clean up (and its export) again loses nothing already exported
    _export_and_clean(session, tmp_path / "results")
    assert (target / "verdicts.csv").read_text() == saved


def test_retune_stops_the_unanswered_loop_and_says_so(aws, session):
    aws.settings.auto_review = "off"
    rules, _, items = until_items(session)
    first = steps.start_review(session, items, rules)["HumanLoopName"].tolist()
    broad = RuleSet.load("broadcast-standard")
    again = steps.start_review(session, steps.review_items(session, broad)[1], broad)
    assert loops.status(session.a2i, first[0]) in ("Stopping", "Stopped")
    said = again.attrs["superseded"].set_index("HumanLoopName")
    assert said.loc[first[0], "action"].startswith("stopped: not answered")
    found = steps.read_outputs(session)
    problems = found.problems.set_index("HumanLoopName")
    assert "stopped" in problems.loc[first[0], "problem"]


def _three_videos(session, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("one.mp4", "two.mp4", "three.mp4"):
        (folder / name).write_bytes(SAMPLE.read_bytes())
    steps.upload(session)
    steps.choose_workteam(session)
    steps.create_task_ui(session)
    steps.create_flow_definition(session)
    videos, result = steps.moderate_folder(session, folder, max_concurrent=3)
    return steps.review_many(session, videos, result, RuleSet.load("lab-v7"), folder)


def test_one_failed_loop_among_three_still_yields_two_loops_verdicts(aws, session, tmp_path):
    faults.inject(loops={"outcome": "Failed", "count": 1})
    started = _three_videos(session, tmp_path)
    assert len(started) == 3
    steps.wait_for_review(session)  # does not stop at the failed loop
    found = steps.read_outputs(session)
    assert len(found.outputs) == 2
    assert len(found.problems) == 1
    assert "failed" in found.problems.loc[0, "problem"]
    assert "start a new loop" in found.problems.loc[0, "advice"]
    verdicts = loops.verdicts(found.outputs)
    assert verdicts["loop"].nunique() == 2 and verdicts["verdict"].notna().all()


def test_an_expired_loop_says_no_reviewer_will_come(aws, session, tmp_path):
    faults.inject(loops={"outcome": "Expired", "count": 1})
    _three_videos(session, tmp_path)
    steps.wait_for_review(session)
    found = steps.read_outputs(session)
    assert len(found.outputs) == 2
    assert "no reviewer will come" in found.problems.loc[0, "advice"]
    assert "wait" not in found.problems.loc[0, "advice"].split(":")[0]


CORRUPT = {
    "not JSON": (b"{not json", "not JSON"),
    "no inputContent": (json.dumps({"humanAnswers": []}).encode(), "lacks inputContent"),
    "no humanAnswers": (
        json.dumps({"inputContent": {"items": []}}).encode(),
        "lacks humanAnswers",
    ),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_an_unreadable_answer_is_named_and_the_others_are_read(aws, session, tmp_path, case):
    body, words = CORRUPT[case]
    _three_videos(session, tmp_path)
    steps.wait_for_review(session)
    names = steps.run_loop_names(session)
    uri = session.a2i.describe_human_loop(HumanLoopName=names[0])["HumanLoopOutput"]
    bucket, _, key = uri["OutputS3Uri"].removeprefix("s3://").partition("/")
    session.s3.put_object(Bucket=bucket, Key=key, Body=body)
    found = steps.read_outputs(session)
    assert len(found.outputs) == 2
    assert found.problems.loc[0, "HumanLoopName"] == names[0]
    assert words in found.problems.loc[0, "problem"]
    exported = cleanup.export_results(
        session.sagemaker, session.a2i, session.s3, session.run_id, tmp_path / "results"
    )
    raw = tmp_path / "results" / session.run_id / "raw" / f"{names[0]}.json"
    assert raw.read_bytes() == body, "the raw answer is exported as A2I wrote it"
    assert any("1 loop(s) without verdicts" in w for w in exported["what"])


def test_loop_names_carry_the_video(session):
    a = loops.loop_name("keep01", "s3://b/one.mp4", "{}")
    b = loops.loop_name("keep01", "s3://b/two.mp4", "{}")
    assert a.split("-")[3] != b.split("-")[3]
    assert a.startswith("vmk-loop-keep01-") and len(a) <= 63
