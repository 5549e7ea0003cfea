"""The notebook role's policy covers every call the kit makes, and grants nothing more."""

import boto3
import lab_steps as steps
import pytest
from lab_steps import SAMPLE

from helpers import batch, iam, moderation, notify, preview, state
from helpers.offline import OfflineSettings, mocked
from helpers.rules import RuleSet
from helpers.session import connect


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """Runs every feature of the kit once; returns {(service, operation)} it called."""
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    monkeypatch.setattr("helpers.waiting.time.sleep", lambda s: None)
    calls: set[tuple[str, str]] = set()
    settings = OfflineSettings(job_seconds=0, flow_definition_seconds=0, answer_after_describes=1)
    with mocked(settings) as aws:
        bs = boto3.Session()

        def seen(model, **_):
            calls.add((model.service_model.service_name, model.name))

        bs.events.register("before-call.*.*", seen)
        session = connect(boto_session=bs, run_id="iam01")
        state.record("session", {"run_id": session.run_id})
        video = steps.upload(session, SAMPLE, "sample")
        steps.moderate(session)
        steps.wait_for_job(session)
        steps.choose_workteam(session)
        ui = steps.create_task_ui(session)
        preview.render_on_aws(
            session.sagemaker,
            session.role_arn,
            preview.sample_input(video["s3_uri"]),
            task_ui_arn=ui,
        )
        steps.allow_portal(session)
        steps.create_flow_definition(session)
        rules = RuleSet.load("lab-v7")
        _, items = steps.review_items(session, rules)
        steps.start_review(session, items, rules)
        steps.wait_for_review(session)
        steps.verdicts(steps.read_outputs(session))
        sns, sqs = session.client("sns"), session.client("sqs")
        notices = notify.create_notices(sns, sqs, session.run_id, session.role_arn)
        job = moderation.start_moderation(
            session.rekognition,
            video["bucket"],
            video["key"],
            notification_channel=notices.channel(),
            min_confidence=60,
        )
        inbox = notify.Inbox(sqs, notices)
        moderation.wait_for_moderation(session.rekognition, job, inbox=inbox, timeout=30)
        videos = batch.videos_under_prefix(session.s3, session.bucket, session.prefix)
        batch.moderate_many(session.rekognition, videos, sleep=lambda s: None)
        aws.settings.auto_review = "off"  # a loop still in progress: clean up must stop it
        broad = RuleSet.load("broadcast-standard")
        steps.start_review(session, steps.review_items(session, broad)[1], broad)
        steps.clean_up(session)
        assert steps.leftovers(session).empty
    return calls


def test_policy_covers_every_call_and_nothing_more(recorded):
    needed = {iam.action_for(service, op) for service, op in recorded} - {None}
    granted = iam.actions(iam.load("notebook-role-policy.json"))
    assert needed - granted == set(), "calls the policy does not allow"
    assert granted - needed - set(iam.IMPLIED) == set(), "actions granted but never used"


def test_policies_render_for_an_account():
    values = {
        "Region": "eu-west-1",
        "Account": "111122223333",
        "Bucket": "my-bucket",
        "RoleArn": "arn:aws:iam::111122223333:role/Studio",
    }
    for name in ("notebook-role-policy.json", "flow-definition-role-policy.json"):
        text = str(iam.render(name, **values))
        assert "${" not in text
    with pytest.raises(KeyError, match="Bucket"):
        iam.render("flow-definition-role-policy.json", Region="r", Account="a")
