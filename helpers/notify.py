"""Rekognition's completion notice: an SNS topic feeding an SQS queue, made and removed by the kit.

Instead of asking Rekognition again and again whether a job is done, you give
StartContentModeration a ``NotificationChannel``: Rekognition publishes one message to an SNS
topic when the job ends, and the kit reads it from an SQS queue subscribed to the topic (a long
poll returns within a second of the message arriving). Rekognition needs a role it may assume
(``rekognition.amazonaws.com``) that may publish to the topic; AWS's managed policy
``AmazonRekognitionServiceRole`` allows topics whose names start with ``AmazonRekognition``,
so the kit's topic does.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from helpers.errors import WaitTimeout, explained

log = logging.getLogger(__name__)

TOPIC_PREFIX = "AmazonRekognition-vmk-"
QUEUE_PREFIX = "vmk-jobs-"


@dataclass(frozen=True)
class JobNotices:
    """The topic, queue and subscription that carry one run's job completion messages."""

    topic_arn: str
    queue_url: str
    queue_arn: str
    subscription_arn: str
    role_arn: str

    def channel(self) -> dict[str, str]:
        """StartContentModeration's ``NotificationChannel`` argument."""
        return {"SNSTopicArn": self.topic_arn, "RoleArn": self.role_arn}


def create_notices(
    sns: Any, sqs: Any, run_id: str, role_arn: str, *, remember: bool = True
) -> JobNotices:
    """Create (or find again) the run's topic and queue, and subscribe the queue to the topic.

    ``role_arn`` is the role Rekognition assumes to publish. Both calls are idempotent on AWS
    (same name and attributes give the same resource), so running this twice is safe.
    With ``remember`` (the default) the topic's region is recorded in the run's state
    (:func:`helpers.guards.remember_notice_region`), so clean up finds the topic and queue in
    that region even when the notebook's region later differs. A script with no run state
    (no state file yet, as in the benchmarks) records nothing.
    """
    tags = [{"Key": "video-moderation-kit", "Value": run_id}]
    topic_arn = sns.create_topic(Name=f"{TOPIC_PREFIX}{run_id}", Tags=tags)["TopicArn"]
    queue_url = sqs.create_queue(
        QueueName=f"{QUEUE_PREFIX}{run_id}", tags={"video-moderation-kit": run_id}
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TopicMayDeliver",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    subscription = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    if remember:
        from helpers import guards, state

        if state.state_path().exists():
            guards.remember_notice_region(topic_arn)
    return JobNotices(topic_arn, queue_url, queue_arn, subscription, role_arn)


class Inbox:
    """Reads the run's queue and keeps every job's notice until someone asks for it.

    One inbox per run consumes the queue, so several jobs can share the topic: a notice read
    while waiting for another job is kept, not lost.
    """

    def __init__(self, sqs: Any, notices: JobNotices) -> None:
        self.sqs = sqs
        self.notices = notices
        self.received: dict[str, dict[str, Any]] = {}

    def poll(self, wait_seconds: int) -> list[dict[str, Any]]:
        """One long poll (at most ``wait_seconds``, ≤ 20); returns the new notices."""
        answer = self.sqs.receive_message(
            QueueUrl=self.notices.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=max(0, min(20, wait_seconds)),
        )
        new = []
        for message in answer.get("Messages", []):
            body = _message(message["Body"])
            self.sqs.delete_message(
                QueueUrl=self.notices.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
            if body.get("JobId"):
                self.received[body["JobId"]] = body
                new.append(body)
                log.info("job %s: %s notice received", body["JobId"], body.get("Status"))
        return new

    def wait(
        self,
        job_id: str,
        *,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
        on_poll: Callable[[Any, float], None] | None = None,
    ) -> dict[str, Any]:
        """The notice ``{JobId, Status, API, JobTag, Timestamp, Video}`` for ``job_id``."""
        start = clock()
        while job_id not in self.received:
            remaining = timeout - (clock() - start)
            if remaining <= 0:
                raise WaitTimeout(
                    f"No completion message for job `{job_id}` within {timeout:.0f} s",
                    "check that the role may publish to the topic and that Rekognition may "
                    "assume it; or wait by polling (leave notifications off)",
                )
            with explained(f"the wait for job `{job_id}`'s completion notice"):
                self.poll(max(1, int(remaining)))
            if on_poll is not None:
                on_poll({"Status": "waiting for notice"}, clock() - start)
        return self.received[job_id]


def _message(body: str) -> dict[str, Any]:
    """The Rekognition message from a raw or SNS-wrapped SQS body."""
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    if isinstance(doc, dict) and "Message" in doc and "TopicArn" in doc:
        try:
            return json.loads(doc["Message"])
        except ValueError:
            return {}
    return doc if isinstance(doc, dict) else {}


def delete_notices(sns: Any, sqs: Any, run_id: str | None, *, dry_run: bool = False) -> list[str]:
    """Delete the run's (or every run's) topics and queues; return their ARNs and URLs."""
    prefix = f"{TOPIC_PREFIX}{run_id}" if run_id else TOPIC_PREFIX
    gone: list[str] = []
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            arn = topic["TopicArn"]
            name = arn.rsplit(":", 1)[-1]
            if name == prefix or (run_id is None and name.startswith(prefix)):
                if not dry_run:
                    for sub_page in sns.get_paginator("list_subscriptions_by_topic").paginate(
                        TopicArn=arn
                    ):
                        for sub in sub_page.get("Subscriptions", []):
                            if sub["SubscriptionArn"].startswith("arn:"):
                                sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
                    sns.delete_topic(TopicArn=arn)
                gone.append(arn)
    queue_prefix = f"{QUEUE_PREFIX}{run_id}" if run_id else QUEUE_PREFIX
    for url in sqs.list_queues(QueueNamePrefix=queue_prefix).get("QueueUrls", []):
        if not dry_run:
            sqs.delete_queue(QueueUrl=url)
        gone.append(url)
    return gone
