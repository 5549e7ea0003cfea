"""The helpers against the offline stand-in, in-process: every step of the lab, and its errors."""

import boto3
import lab_steps as steps
import pytest
from lab_steps import SAMPLE, until_items

from helpers import cleanup, cors, media, moderation, review, state
from helpers.errors import ConfigurationError, InputError, ModerationJobFailed, ResourceFailed
from helpers.offline import OfflineSettings, mocked, offline_role_arn
from helpers.rules import RuleSet, apply_rules
from helpers.session import connect


@pytest.fixture
def aws(tmp_path, monkeypatch):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    settings = OfflineSettings(
        job_seconds=0, flow_definition_seconds=0, answer_after_describes=1, auto_review="mixed"
    )
    with mocked(settings) as stand_in:
        yield stand_in


@pytest.fixture
def session(aws):
    return connect(run_id="test01")


def _fast(monkeypatch):
    """No real sleeping while helpers wait on the stand-in."""
    monkeypatch.setattr("helpers.waiting.time.sleep", lambda s: None)


def test_connect_finds_role_and_creates_default_bucket(aws):
    s = connect()
    assert s.role_arn == offline_role_arn()
    assert s.bucket == f"sagemaker-us-east-1-{s.account_id}"
    assert s.s3.head_bucket(Bucket=s.bucket)
    assert len(s.run_id) >= 4


def test_bucket_in_another_region_is_refused(aws):
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="far-away", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    with pytest.raises(ConfigurationError, match="is in eu-west-1, not in us-east-1"):
        connect(region="us-east-1", bucket="far-away")


def test_upload_is_idempotent_and_encrypted(session):
    first = media.upload_video(session, SAMPLE)
    again = media.upload_video(session, SAMPLE)
    assert first == again
    head = session.s3.head_object(Bucket=session.bucket, Key=first["key"])
    assert head["ServerSideEncryption"] == "AES256"
    assert media.mp4_duration_ms(SAMPLE) == 54_000


def test_moderation_reads_every_page(session, monkeypatch):
    _fast(monkeypatch)
    video = media.upload_video(session, SAMPLE)
    job = moderation.start_moderation(session.rekognition, video["bucket"], video["key"])
    first = moderation.wait_for_moderation(session.rekognition, job)
    assert first["JobStatus"] == "SUCCEEDED"
    whole = moderation.fetch_labels(session.rekognition, job)
    paged = moderation.fetch_labels(session.rekognition, job, page_size=7)
    assert len(whole) > 100
    assert paged.attrs["pages"] == -(-len(whole) // 7)
    assert whole.reset_index(drop=True).equals(paged.reset_index(drop=True))
    assert whole["confidence"].min() >= 50
    assert whole.attrs["model_version"].startswith("7")
    assert set(whole["category"]) >= {"Alcohol", "Violence", "Gambling"}
    segments = moderation.fetch_labels(session.rekognition, job, aggregate_by="SEGMENTS")
    assert (segments["end_ms"] >= segments["start_ms"]).all()
    assert len(segments) < len(whole)


def test_moderation_arguments_checked_before_any_call(session):
    with pytest.raises(InputError, match="0 to 100"):
        moderation.start_moderation(session.rekognition, "b", "k", min_confidence=150)
    with pytest.raises(InputError, match="SortBy"):
        next(moderation.iter_pages(session.rekognition, "job", sort_by="CONFIDENCE"))


def test_client_request_token_gives_one_job(session):
    video = media.upload_video(session, SAMPLE)
    args = (session.rekognition, video["bucket"], video["key"])
    assert moderation.start_moderation(*args, client_request_token="t-1") == (
        moderation.start_moderation(*args, client_request_token="t-1")
    )


def test_workteam_choice(session):
    team = review.find_workteam(session.sagemaker)
    assert team["WorkteamName"] == "kit-reviewers"
    assert review.worker_portal_url(session.sagemaker, team).startswith("http")
    with pytest.raises(ConfigurationError, match="kit-reviewers"):
        review.find_workteam(session.sagemaker, "nobody")


def test_provisioning_is_idempotent(session, monkeypatch):
    _fast(monkeypatch)
    template = review.load_template()
    ui = review.ensure_task_ui(session.sagemaker, session.run_id, template)
    assert review.ensure_task_ui(session.sagemaker, session.run_id, template) == ui
    team = review.find_workteam(session.sagemaker)
    config = review.flow_definition_config(
        workteam_arn=team["WorkteamArn"],
        task_ui_arn=ui,
        role_arn=session.role_arn,
        output_path=f"s3://{session.bucket}/{session.prefix}/a2i-output",
    )
    flow = review.ensure_flow_definition(session.sagemaker, session.run_id, config)
    assert flow["FlowDefinitionStatus"] == "Active"
    again = review.ensure_flow_definition(session.sagemaker, session.run_id, config)
    assert again["FlowDefinitionArn"] == flow["FlowDefinitionArn"]
    names = [
        f["FlowDefinitionName"]
        for f in session.sagemaker.list_flow_definitions()["FlowDefinitionSummaries"]
    ]
    assert names == [flow["FlowDefinitionName"]]


def _run_lab(session, rules="lab-v7"):
    """Steps 01-04 as the notebooks make them (tests/aws/lab_steps.py)."""
    state.record("session", {"run_id": session.run_id})
    return until_items(session, rules)


def test_whole_lab_round_trip_and_teardown(session, monkeypatch):
    _fast(monkeypatch)
    rule_set, flagged, items = _run_lab(session)
    assert 0 < len(items) < len(flagged)
    loops = steps.start_review(session, items, rule_set)
    assert len(loops) == 1 and loops.loc[0, "items"] == len(items)
    again = steps.start_review(session, items, rule_set)
    assert again["HumanLoopName"].tolist() == loops["HumanLoopName"].tolist()
    steps.wait_for_review(session)
    outputs = steps.read_outputs(session)
    verdicts = steps.verdicts(outputs)
    assert set(verdicts["id"]) == set(items["id"])
    assert verdicts["verdict"].notna().all()
    assert cors.current_rules(session.s3, session.bucket)

    plan = steps.clean_up(session, dry_run=True)
    kinds = set(plan["kind"])
    assert {"human loop", "flow definition", "human task UI", "S3 object"} <= kinds
    assert not plan["done"].any()
    kept = plan[plan["action"].str.startswith("keep")]
    assert len(kept) == 1 and "/a2i-output/" in kept["name"].iloc[0]  # the answer is kept
    done = steps.clean_up(session)
    assert done[~done["action"].str.startswith("keep")]["done"].all()
    assert steps.leftovers(session).empty
    assert cors.current_rules(session.s3, session.bucket) == []
    again = steps.clean_up(session)  # safe twice: only the kept answer is found
    assert list(again["action"]) == list(kept["action"])
    gone = steps.clean_up(session, delete_answers=True)
    assert gone["done"].all() and len(gone) == 1
    assert steps.clean_up(session, dry_run=True).empty


def test_teardown_stops_loops_in_progress(aws, session, monkeypatch):
    _fast(monkeypatch)
    aws.settings.auto_review = "off"
    rule_set, _, items = _run_lab(session)
    loops = steps.start_review(session, items, rule_set)
    assert loops["HumanLoopStatus"].tolist() == ["InProgress"]
    frame = cleanup.teardown(
        session.sagemaker, session.a2i, session.s3, session.bucket, session.run_id
    )
    assert "stop and delete" in set(frame["action"])
    assert steps.leftovers(session).empty


def test_nothing_flagged_means_no_loop(session, monkeypatch):
    _fast(monkeypatch)
    strict = RuleSet("strict", {"Hate Symbols": 99})
    _run_lab(session)
    none = review.make_review_items(apply_rules(steps.labels(session), strict))
    assert none.empty
    assert steps.start_review(session, none, strict).empty
    assert steps.wait_for_review(session).empty
    assert steps.verdicts(steps.read_outputs(session)).empty


def test_stopped_loop_raises_named_error(aws, session, monkeypatch):
    _fast(monkeypatch)
    aws.settings.auto_review = "off"
    rule_set, _, items = _run_lab(session)
    name = steps.start_review(session, items, rule_set).loc[0, "HumanLoopName"]
    session.a2i.stop_human_loop(HumanLoopName=name)
    with pytest.raises(ResourceFailed, match="Stopped"):
        review.wait_for_human_loop(session.a2i, name, timeout=60)


def test_failed_job_raises_with_status_message(session, monkeypatch):
    _fast(monkeypatch)
    session.s3.put_object(Bucket=session.bucket, Key="x/not-a-video.mp4", Body=b"hello" * 100)
    job = moderation.start_moderation(session.rekognition, session.bucket, "x/not-a-video.mp4")
    with pytest.raises(ModerationJobFailed) as err:
        moderation.wait_for_moderation(session.rekognition, job)
    assert err.value.status_message
    assert err.value.status_message in str(err.value)
    assert "H.264" in str(err.value)  # says what to do next
