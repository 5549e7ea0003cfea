"""The original lab's approach, reproduced faithfully as the benchmark's baseline.

From the workshop lab (see README): poll GetContentModeration every 5 s while IN_PROGRESS, use
only the first page of results (it never follows NextToken), and send every timestamp row of
the labels "Alcoholic Beverages", "Barechested Male" and "Drinking" with confidence > 80 for
review, one row per item.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

LAB_LABELS = ["Alcoholic Beverages", "Barechested Male", "Drinking"]
POLL_SECONDS = 5


def wait(rekognition: Any, job_id: str, sleep: Callable[[float], None] = time.sleep) -> dict:
    """The lab's loop: first call, then every 5 s while IN_PROGRESS; returns the last answer."""
    answer = rekognition.get_content_moderation(JobId=job_id, SortBy="TIMESTAMP")
    while answer["JobStatus"] == "IN_PROGRESS":
        sleep(POLL_SECONDS)
        answer = rekognition.get_content_moderation(JobId=job_id, SortBy="TIMESTAMP")
    return answer


def payload(answer: dict, bucket: str, key: str) -> dict:
    """The lab's generate_a2i_payload: every matching row of the (first) page."""
    failed = [
        item
        for item in answer["ModerationLabels"]
        if item["ModerationLabel"]["Name"] in LAB_LABELS
        and item["ModerationLabel"]["Confidence"] > 80
    ]
    return {
        "InputContent": json.dumps(
            {
                "Results": {"ConditionMissed": failed},
                "s3": {"url": f"s3://{bucket}/{key}"},
                "VideoName": "Tear of Steel Trailer",
            }
        )
    }
