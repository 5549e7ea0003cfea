"""Clean up's guards: another run's open review keeps the bucket's CORS rule; notice topics are
found in the region they were made in (against the stand-in)."""

import boto3
import pytest

from helpers import cleanup, cors, guards, notify, review, session, state
from helpers.offline import OfflineSettings, mocked

ITEMS_DOC = {
    "schema": "x",
    "video": {"title": "t", "s3_uri": "s3://b/k.mp4", "duration_ms": 1000},
    "items": [],
    "rules": "r",
}


@pytest.fixture
def aws(tmp_path, monkeypatch):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    monkeypatch.setattr("helpers.waiting.time.sleep", lambda s: None)
    settings = OfflineSettings(job_seconds=0, flow_definition_seconds=0, auto_review="off")
    with mocked(settings) as stand_in:
        yield stand_in


def _run_with_open_loop(run_id, bucket=None):
    s = session.connect(run_id=run_id, bucket=bucket)
    team = review.find_workteam(s.sagemaker)
    ui = review.ensure_task_ui(s.sagemaker, s.run_id, review.load_template())
    config = review.flow_definition_config(
        workteam_arn=team["WorkteamArn"],
        task_ui_arn=ui,
        role_arn=s.role_arn,
        output_path=f"s3://{s.bucket}/{s.prefix}/a2i-output/",
    )
    flow = review.ensure_flow_definition(s.sagemaker, s.run_id, config)
    loop = review.start_human_loop(
        s.a2i, flow["FlowDefinitionArn"], s.run_id, {**ITEMS_DOC, "rules": run_id}
    )
    return s, loop


def test_another_runs_open_review_is_seen(aws, reliability):
    first, _ = _run_with_open_loop("runa1")
    second, loop_b = _run_with_open_loop("runb2")
    _run_with_open_loop("runc3", bucket="another-kit-bucket")
    assert guards.runs_still_in_review(first.sagemaker, first.a2i, first.bucket, "runa1") == [
        "runb2"
    ], "run c3 reviews on another bucket: its loops do not need this bucket's CORS rule"
    assert guards.runs_still_in_review(first.sagemaker, first.a2i, first.bucket, None) == []
    second.a2i.stop_human_loop(HumanLoopName=loop_b["HumanLoopName"])
    assert guards.runs_still_in_review(first.sagemaker, first.a2i, first.bucket, "runa1") == []
    sentence = guards.cors_kept_because(["runb2"], first.bucket)
    assert "runb2" in sentence and first.bucket in sentence
    reliability["resources kept for other runs"] += 1


def test_notice_topic_found_in_the_region_it_was_made_in(aws, reliability):
    s = session.connect(region="us-east-1", run_id="topic1")
    far = "eu-west-1"
    bs = boto3.Session()
    notices = notify.create_notices(
        bs.client("sns", region_name=far), bs.client("sqs", region_name=far), "topic1", s.role_arn
    )
    assert guards.topic_region(notices.topic_arn) == far
    assert guards.remember_notice_region(notices.topic_arn) == [far]
    assert guards.remember_notice_region(notices.topic_arn) == [far], "recorded once"
    recorded = state.load()[guards.NOTICE_REGIONS_KEY]
    here = guards.notice_topic_regions(bs, s.region)
    assert guards.delete_notices_everywhere(bs, "topic1", here, dry_run=True) == []
    regions = guards.notice_topic_regions(bs, s.region, recorded)
    assert regions == ["us-east-1", far]
    planned = guards.delete_notices_everywhere(bs, "topic1", regions, dry_run=True)
    assert notices.topic_arn in planned and notices.queue_url in planned
    everywhere = guards.notice_topic_regions(bs, s.region, everywhere=True)
    assert far in everywhere and everywhere[0] == "us-east-1"
    gone = guards.delete_notices_everywhere(bs, "topic1", regions)
    assert set(gone) == set(planned)
    far_sns = bs.client("sns", region_name=far)
    assert far_sns.list_topics()["Topics"] == []
    reliability["resources left"] += len(far_sns.list_topics()["Topics"])


def test_teardown_keeps_the_cors_rule_while_another_run_reviews(aws, reliability):
    first, _ = _run_with_open_loop("runa1")
    second, loop_b = _run_with_open_loop("runb2")
    cors.allow_portal(first.s3, first.bucket, "https://team.labeling.example.com")
    args = (first.sagemaker, first.a2i, first.s3, first.bucket)
    planned = cleanup.teardown(*args, "runa1", dry_run=True)
    row = planned[planned["kind"] == "bucket CORS rule"].iloc[0]
    assert row["action"].startswith("keep (") and "`runb2`" in row["action"]
    kept = planned[planned["kind"] == "bucket CORS rule"]
    assert isinstance(cleanup.left_behind(kept, "runa1"), str), "kept on purpose: not left behind"
    done = cleanup.teardown(*args, "runa1")
    assert "`runb2`" in done.loc[done["kind"] == "bucket CORS rule", "action"].iloc[0]
    assert [r["ID"] for r in cors.current_rules(first.s3, first.bucket)] == [cors.RULE_ID]
    reliability["resources kept for other runs"] += 1

    second.a2i.stop_human_loop(HumanLoopName=loop_b["HumanLoopName"])
    last = cleanup.teardown(*args, "runb2")
    assert last.loc[last["kind"] == "bucket CORS rule", "action"].tolist() == ["remove"]
    assert cors.current_rules(first.s3, first.bucket) == [], "the last run's clean up removes it"


def test_teardown_deletes_notices_in_the_region_they_were_made_in(aws, reliability):
    s = session.connect(region="us-east-1", run_id="topic2")
    state.record("session", {"run_id": "topic2"})  # notebook 1 has run: the run has a state file
    far = "eu-west-1"
    bs = boto3.Session()
    far_sns, far_sqs = bs.client("sns", region_name=far), bs.client("sqs", region_name=far)
    notices = notify.create_notices(far_sns, far_sqs, "topic2", s.role_arn)
    assert state.load()[guards.NOTICE_REGIONS_KEY] == [far], "create_notices records the region"
    here = {"sns": s.client("sns"), "sqs": s.client("sqs")}
    args = (s.sagemaker, s.a2i, s.s3, s.bucket, "topic2")
    planned = cleanup.teardown(*args, dry_run=True, **here)
    assert {notices.topic_arn, notices.queue_url} <= set(planned["name"])
    cleanup.teardown(*args, **here)
    assert far_sns.list_topics()["Topics"] == []
    assert far_sqs.list_queues().get("QueueUrls", []) == []
    reliability["resources left"] += len(far_sns.list_topics()["Topics"])


def test_teardown_goes_on_when_the_state_file_is_corrupt(aws, tmp_path):
    s = session.connect(region="us-east-1", run_id="topic3")
    notices = notify.create_notices(s.client("sns"), s.client("sqs"), "topic3", s.role_arn)
    (tmp_path / "run.json").write_text("{not json")
    here = {"sns": s.client("sns"), "sqs": s.client("sqs")}
    done = cleanup.teardown(s.sagemaker, s.a2i, s.s3, s.bucket, "topic3", **here)
    assert notices.topic_arn in set(done["name"]), "found by name in the session's region"
    assert s.client("sns").list_topics()["Topics"] == []
