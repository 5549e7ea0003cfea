"""A human loop's input stays under A2I's InputContent limit: big reviews split by time window."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import answers, loops, media, provision, review, segments, taxonomy
from helpers.errors import InputError
from helpers.offline import OfflineSettings, mocked
from helpers.session import connect

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "media" / "moderation-sample.mp4"
SIX_HOURS_MS = 6 * 3600 * 1000
ARGS = {
    "video_s3_uri": "s3://b/v.mp4",
    "title": "t",
    "duration_ms": SIX_HOURS_MS,
    "rules_name": "r",
}


def synthetic_items(n: int, seed: int = 0, *, same_start_every: int = 0) -> pd.DataFrame:
    """``n`` review items spread over six hours (distinct labels and starts)."""
    rng = np.random.default_rng(seed)
    leaves = [name for name in taxonomy.NAMES if taxonomy.level(name) == 3]
    label = rng.choice(leaves, n)
    start = np.sort(rng.choice(SIX_HOURS_MS // 10, n, replace=False) * 10)
    if same_start_every:
        start = start // same_start_every * same_start_every
    frame = pd.DataFrame(
        {
            "label": label,
            "level": 3,
            "parent": [taxonomy.parent(x) for x in label],
            "category": [taxonomy.top_level(x) for x in label],
            "confidence": rng.uniform(50, 100, n).round(2),
            "start_ms": start,
            "end_ms": start + rng.integers(0, 5000, n),
        }
    )
    frame.attrs["aggregate_by"] = "SEGMENTS"
    return segments.review_items(frame, gap_ms=0)


def _check_windows(items, docs, max_chars=review.MAX_INPUT_CHARS):
    # every item lands in exactly one loop, none is dropped or changed
    ids = [item["id"] for doc in docs for item in doc["items"]]
    assert sorted(ids) == sorted(items["id"]) and len(set(ids)) == len(ids)
    count = len(docs)
    previous_end = 0
    for index, doc in enumerate(docs):
        assert len(review.input_content(doc)) <= max_chars
        assert doc["schema"] == answers.INPUT_SCHEMA
        window = doc["window"]
        assert (window["index"], window["count"]) == (index, count)
        assert window["start_ms"] == previous_end < window["end_ms"]
        previous_end = window["end_ms"]
        assert all(window["start_ms"] <= i["start_ms"] < window["end_ms"] for i in doc["items"])
    assert previous_end >= SIX_HOURS_MS


def test_small_review_is_one_loop_without_window():
    items = synthetic_items(50)
    docs = review.plan_loop_inputs(items, **ARGS)
    assert len(docs) == 1 and "window" not in docs[0]
    assert [i["id"] for i in docs[0]["items"]] == list(items.sort_values("start_ms")["id"])


def test_20000_items_split_into_loops_under_the_limit():
    items = synthetic_items(20_000)
    whole = json.dumps(review.build_loop_input(items, **ARGS), separators=(",", ":"))
    assert len(whole) > review.MAX_INPUT_CHARS  # one loop would not do
    docs = review.plan_loop_inputs(items, **ARGS)
    assert len(docs) == 2
    _check_windows(items, docs)
    sizes = [len(review.input_content(d)) for d in docs]
    assert max(sizes) - min(sizes) < 0.05 * max(sizes)  # about equally full


@pytest.mark.parametrize("max_chars", [20_000, 50_000, 200_000])
def test_many_windows_keep_every_item_once(max_chars):
    items = synthetic_items(3_000, seed=max_chars, same_start_every=60_000)
    docs = review.plan_loop_inputs(items, **ARGS, max_chars=max_chars)
    assert len(docs) > 1
    _check_windows(items, docs, max_chars)
    # items that start at the same moment stay in one window
    window_of = {i["id"]: d["window"]["index"] for d in docs for i in d["items"]}
    for _, group in items.groupby("start_ms"):
        assert len({window_of[i] for i in group["id"]}) == 1


def test_nothing_is_truncated_when_one_moment_does_not_fit():
    items = synthetic_items(200, same_start_every=SIX_HOURS_MS)  # about 25 labels, all at 0 ms
    assert len(items) > 10
    with pytest.raises(InputError, match="one moment") as err:
        review.plan_loop_inputs(items, **ARGS, max_chars=2_000)
    assert "gap_ms" in err.value.fix
    with pytest.raises(InputError, match="title"):
        review.plan_loop_inputs(items, **{**ARGS, "title": "x" * 6_000}, max_chars=2_000)


@pytest.fixture
def review_ready(tmp_path, monkeypatch):
    """A run with the video uploaded and a flow definition Active, on the in-process stand-in."""
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    monkeypatch.setattr("helpers.waiting.time.sleep", lambda s: None)
    settings = OfflineSettings(job_seconds=0, flow_definition_seconds=0, auto_review="off")
    with mocked(settings):
        session = connect(run_id="split01")
        video = {**media.upload_video(session, SAMPLE), "title": "six hours of video"}
        team = provision.find_workteam(session.sagemaker)
        ui = review.ensure_task_ui(session.sagemaker, session.run_id, provision.load_template())
        config = review.flow_definition_config(
            workteam_arn=team["WorkteamArn"],
            task_ui_arn=ui,
            role_arn=session.role_arn,
            output_path=f"s3://{session.bucket}/{session.prefix}/a2i-output",
        )
        flow = review.ensure_flow_definition(session.sagemaker, session.run_id, config)
        yield session, video, flow["FlowDefinitionArn"]


def _start(session, video, flow_arn, items):
    """Notebook 4's two cells: the loops' requests, then StartHumanLoop for each new one."""
    requests = loops.requests(
        items, run_id=session.run_id, video=video, duration_ms=SIX_HOURS_MS, rules_name="lab-v7"
    )
    for request in requests:
        if loops.status(session.a2i, request["HumanLoopName"]) is None:
            session.a2i.start_human_loop(
                HumanLoopName=request["HumanLoopName"],
                FlowDefinitionArn=flow_arn,
                HumanLoopInput={"InputContent": request["InputContent"]},
            )
    return requests


def test_start_review_starts_one_loop_per_window_and_says_so(review_ready, caplog):
    session, video, flow_arn = review_ready
    items = synthetic_items(20_000)
    with caplog.at_level(logging.WARNING, logger="helpers.loops"):
        requests = _start(session, video, flow_arn, items)
    assert len(requests) == 2 and sum(r["items"] for r in requests) == len(items)
    assert all(len(r["InputContent"]) <= review.MAX_INPUT_CHARS for r in requests)
    assert len({r["HumanLoopName"] for r in requests}) == 2
    assert "review split into 2 loops by time window" in caplog.text
    assert [r["window"]["index"] for r in requests] == [0, 1]
    # the stand-in (like A2I) accepted both inputs; each names its window
    a2i = session.a2i
    for r in requests:
        assert a2i.describe_human_loop(HumanLoopName=r["HumanLoopName"])["HumanLoopStatus"] == (
            "InProgress"
        )
    # running the cell again starts nothing new
    again = _start(session, video, flow_arn, items)
    assert [r["HumanLoopName"] for r in again] == [r["HumanLoopName"] for r in requests]
    listed = a2i.list_human_loops(FlowDefinitionArn=flow_arn)["HumanLoopSummaries"]
    assert len(listed) == 2
