"""Waiting for Rekognition by its SNS completion message, through an SQS queue the kit makes."""

from pathlib import Path

import pytest

from helpers import media, moderation, notify
from helpers.errors import WaitTimeout
from helpers.offline import OfflineSettings, mocked
from helpers.session import connect

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "media" / "moderation-sample.mp4"


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / "run.json"))
    with mocked(OfflineSettings(job_seconds=0.5)):
        yield connect(run_id="note01")


def test_job_is_noticed_by_message_and_notices_are_removed(session):
    sns, sqs = session.client("sns"), session.client("sqs")
    notices = notify.create_notices(sns, sqs, session.run_id, session.role_arn)
    assert notify.create_notices(sns, sqs, session.run_id, session.role_arn) == notices
    video = media.upload_video(session, SAMPLE)
    job = moderation.start_moderation(
        session.rekognition,
        video["bucket"],
        video["key"],
        notification_channel=notices.channel(),
        job_tag="note01",
    )
    inbox = notify.Inbox(sqs, notices)
    first = moderation.wait_for_moderation(session.rekognition, job, inbox=inbox, timeout=30)
    assert first["JobStatus"] == "SUCCEEDED"
    message = inbox.received[job]
    assert message["Status"] == "SUCCEEDED"
    assert message["API"] == "StartContentModeration"
    assert message["JobTag"] == "note01"
    assert message["Video"]["S3ObjectName"] == video["key"]

    planned = notify.delete_notices(sns, sqs, session.run_id, dry_run=True)
    assert len(planned) == 2
    assert notify.delete_notices(sns, sqs, session.run_id) == planned
    assert notify.delete_notices(sns, sqs, session.run_id) == []
    assert sns.list_topics()["Topics"] == []


def test_missing_notice_times_out_with_advice(session):
    notices = notify.create_notices(
        session.client("sns"), session.client("sqs"), session.run_id, session.role_arn
    )
    inbox = notify.Inbox(session.client("sqs"), notices)
    with pytest.raises(WaitTimeout, match="may publish to the topic"):
        inbox.wait("no-such-job", timeout=1)
