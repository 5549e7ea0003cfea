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
    requests: list[tuple[str, str, dict]] = []
    settings = OfflineSettings(job_seconds=0, flow_definition_seconds=0, answer_after_describes=1)
    with mocked(settings) as aws:
        bs = boto3.Session()

        def seen(model, **_):
            calls.add((model.service_model.service_name, model.name))

        def params(params, model, **_):
            requests.append((model.service_model.service_name, model.name, dict(params)))

        bs.events.register("before-call.*.*", seen)
        bs.events.register("before-parameter-build.*.*", params)
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
        where = {
            "Region": session.region,
            "Account": session.account_id,
            "Bucket": session.bucket,
            "RoleArn": session.role_arn,
        }
    return calls, requests, where


def test_policy_covers_every_call_and_nothing_more(recorded):
    recorded, _, _ = recorded
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


S3_OBJECT_OPS = {"GetObject", "HeadObject", "PutObject", "DeleteObject", "CreateMultipartUpload",
                 "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload"}  # fmt: skip
PASSED_TO = {
    "CreateFlowDefinition": "sagemaker.amazonaws.com",
    "RenderUiTemplate": "sagemaker.amazonaws.com",
    "StartContentModeration": "rekognition.amazonaws.com",
}


def _scoped_requests(requests):
    """(action, resource, context) of every recorded S3 call and every role the kit passed."""
    for service, op, params in requests:
        if service == "s3" and "Bucket" in params:
            bucket = f"arn:aws:s3:::{params['Bucket']}"
            action = iam.action_for(service, op)
            if op in S3_OBJECT_OPS:
                yield action, f"{bucket}/{params['Key']}", {}
            elif op == "DeleteObjects":
                for obj in params["Delete"]["Objects"]:
                    yield action, f"{bucket}/{obj['Key']}", {}
            elif op in ("ListObjectsV2", "ListObjects"):
                context = {"s3:prefix": params["Prefix"]} if "Prefix" in params else {}
                yield action, bucket, context
            else:
                yield action, bucket, {}
        role = params.get("RoleArn") or params.get("NotificationChannel", {}).get("RoleArn")
        if op in PASSED_TO and role:
            yield "iam:PassRole", role, {"iam:PassedToService": PASSED_TO[op]}


def test_every_s3_call_and_passed_role_is_allowed_by_the_scoped_policy(recorded):
    """Object actions only under the kit's prefix, listing only with that prefix: each call the
    kit made is checked against the rendered policy's resources and conditions."""
    _, requests, where = recorded
    policy = iam.render("notebook-role-policy.json", **where)
    checked = list(_scoped_requests(requests))
    assert {a for a, _, _ in checked} >= {"s3:PutObject", "s3:GetObject", "s3:ListBucket",
                                          "s3:DeleteObject", "iam:PassRole"}  # fmt: skip
    refused = [c for c in checked if not iam.allows(policy, *c)]
    assert refused == []


def test_object_and_list_actions_are_scoped_to_the_kit_prefix():
    policy = iam.render("notebook-role-policy.json", Region="eu-west-1", Account="111122223333",
                        Bucket="b", RoleArn="arn:aws:iam::111122223333:role/Studio")  # fmt: skip
    inside, outside = "arn:aws:s3:::b/video-moderation-kit/r1/input/v.mp4", "arn:aws:s3:::b/x.mp4"
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert iam.allows(policy, action, inside)
        assert not iam.allows(policy, action, outside), f"{action} outside the kit's prefix"
    listing = "arn:aws:s3:::b"
    assert iam.allows(policy, "s3:ListBucket", listing, {"s3:prefix": "video-moderation-kit/r1/"})
    assert not iam.allows(policy, "s3:ListBucket", listing, {"s3:prefix": "private/"})
    assert not iam.allows(policy, "s3:ListBucket", listing), "a listing without a prefix"


def test_pass_role_covers_the_separate_roles_and_only_for_their_service():
    studio = "arn:aws:iam::111122223333:role/Studio"
    flow = "arn:aws:iam::111122223333:role/vmk-a2i-flow"
    notice = "arn:aws:iam::111122223333:role/vmk-rekognition-notices"
    policy = iam.render("notebook-role-policy.json", Region="eu-west-1", Account="111122223333",
                        Bucket="b", RoleArn=studio, FlowDefinitionRoleArn=flow,
                        NoticeRoleArn=notice)  # fmt: skip
    to_sagemaker = {"iam:PassedToService": "sagemaker.amazonaws.com"}
    to_rekognition = {"iam:PassedToService": "rekognition.amazonaws.com"}
    assert iam.allows(policy, "iam:PassRole", flow, to_sagemaker)
    assert iam.allows(policy, "iam:PassRole", notice, to_rekognition)
    assert not iam.allows(policy, "iam:PassRole", flow, to_rekognition)
    assert not iam.allows(policy, "iam:PassRole", notice, to_sagemaker)
    assert not iam.allows(policy, "iam:PassRole", "arn:aws:iam::111122223333:role/Admin",
                          to_sagemaker)  # fmt: skip
    # With one role for everything (the default), the policy names it once per statement.
    single = iam.render("notebook-role-policy.json", Region="r", Account="a", Bucket="b",
                        RoleArn=studio)  # fmt: skip
    assert iam.allows(single, "iam:PassRole", studio, to_rekognition)
    assert all(
        len(s["Resource"]) == len(set(s["Resource"]))
        for s in single["Statement"]
        if isinstance(s["Resource"], list)
    )
