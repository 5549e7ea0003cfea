"""Moderating many videos: a folder or an S3 prefix, under a cap on concurrent jobs.

Rekognition runs about 20 stored-video jobs at a time per account by default and has no queue
of its own: a 21st StartContentModeration answers LimitExceededException. The kit keeps its own
queue: it starts jobs up to the cap, starts the next when one ends, and on LimitExceeded (other
jobs in the account use the quota too) puts the video back and backs off. Throttling (and, a few
times, LimitExceeded itself) is retried by botocore's standard retry mode before the kit's
queue sees it. The labels of every video land in one DataFrame.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from helpers import checks, media, moderation
from helpers.errors import InputError, ModerationJobFailed, WaitTimeout, explained, kit_step
from helpers.session import KitSession
from helpers.waiting import Backoff

log = logging.getLogger(__name__)

#: Rekognition's documented default quota of concurrent stored-video jobs per account.
DEFAULT_MAX_CONCURRENT = 20


@dataclass
class VideoJob:
    """One video's way through the batch."""

    name: str
    bucket: str
    key: str
    job_id: str | None = None
    status: str = "QUEUED"
    message: str = ""
    started: float | None = None
    finished: float | None = None
    limit_retries: int = 0


@dataclass
class BatchResult:
    """Every video's job, and every label of every video (column ``video``)."""

    jobs: pd.DataFrame
    labels: pd.DataFrame
    calls: dict[str, int] = field(default_factory=dict)


def videos_in_folder(session: KitSession, folder: str | Path) -> list[VideoJob]:
    """Check and upload every video of a local folder; one :class:`VideoJob` each.

    Every video is checked (:func:`helpers.media.check_video_folder`) before the first upload:
    a missing folder, a folder without videos or one video Rekognition would refuse stops the
    batch with every bad file named, and nothing is uploaded.
    """
    paths = media.check_video_folder(folder)
    jobs = []
    for path in paths:
        record = media.upload_video(session, path)
        jobs.append(VideoJob(path.name, record["bucket"], record["key"]))
    return jobs


def videos_under_prefix(s3: Any, bucket: str, prefix: str) -> list[VideoJob]:
    """One :class:`VideoJob` per video object under ``s3://bucket/prefix``."""
    jobs = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if Path(key).suffix.lower() in media.VIDEO_SUFFIXES:
                jobs.append(VideoJob(key.rsplit("/", 1)[-1], bucket, key))
    if not jobs:
        raise InputError(
            f"No video objects under s3://{bucket}/{prefix}",
            "check the prefix; videos end in .mp4, .mov, .m4v or .avi",
        )
    return jobs


@kit_step
def moderate_many(
    rekognition: Any,
    videos: Iterable[VideoJob],
    *,
    min_confidence: float = 50.0,
    max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    timeout: float = 6 * 3600.0,
    run_tag: str | None = None,
    backoff: Backoff | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BatchResult:
    """Moderate every video with at most ``max_concurrent`` jobs running; read every label.

    A video whose job FAILED is reported in ``jobs`` (status FAILED with Rekognition's message)
    and contributes no labels; the others go on. Raises :class:`WaitTimeout` when jobs are still
    running after ``timeout`` seconds.
    """
    checks.number(max_concurrent, "max_concurrent", low=1, integer=True)
    checks.number(min_confidence, "min_confidence", low=0, high=100)
    queue = deque(videos)
    everything = list(queue)
    running: list[VideoJob] = []
    frames: list[pd.DataFrame] = []
    calls = {"start": 0, "get": 0, "limit_exceeded": 0}
    delays = (backoff or Backoff(first=2.0, cap=30.0)).delays()
    begin = clock()
    while queue or running:
        while queue and len(running) < max_concurrent:
            video = queue.popleft()
            calls["start"] += 1
            try:
                video.job_id = moderation.start_moderation(
                    rekognition,
                    video.bucket,
                    video.key,
                    min_confidence=min_confidence,
                    job_tag=run_tag,
                )
            except ClientError as err:
                if err.response["Error"]["Code"] != "LimitExceededException":
                    raise
                calls["limit_exceeded"] += 1
                video.limit_retries += 1
                queue.appendleft(video)
                log.info("concurrent job quota reached; %s waits for a free slot", video.name)
                break
            video.status, video.started = "IN_PROGRESS", clock()
            running.append(video)
        for video in list(running):
            calls["get"] += 1
            with explained(f"the wait for {video.name}'s moderation job"):
                page = rekognition.get_content_moderation(JobId=video.job_id, MaxResults=1)
            if page["JobStatus"] == "IN_PROGRESS":
                continue
            running.remove(video)
            video.status, video.finished = page["JobStatus"], clock()
            if page["JobStatus"] == "FAILED":
                video.message = page.get("StatusMessage", "")
                log.warning("%s: %s", video.name, ModerationJobFailed(video.job_id, video.message))
                continue
            labels = moderation.fetch_labels(rekognition, video.job_id)
            calls["get"] += labels.attrs["pages"]
            frames.append(labels.assign(video=video.name, job_id=video.job_id))
        if not queue and not running:
            break
        if clock() - begin > timeout:
            waiting = ", ".join(v.name for v in running + list(queue))
            raise WaitTimeout(
                f"Videos still not moderated after {timeout:.0f} s: {waiting}",
                "run again with a longer timeout; started jobs keep running",
            )
        sleep(next(delays))
    jobs = pd.DataFrame(
        [
            {
                "video": v.name,
                "job_id": v.job_id,
                "status": v.status,
                "message": v.message,
                "seconds": None if v.finished is None else round(v.finished - (v.started or 0), 1),
                "limit_retries": v.limit_retries,
            }
            for v in everything
        ]
    )
    columns = [*moderation.LABEL_COLUMNS, "video", "job_id"]
    labels = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return BatchResult(jobs=jobs, labels=labels, calls=calls)
