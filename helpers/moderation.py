"""Rekognition's asynchronous video moderation: start a job, wait for it, read every page.

The lab reads only the first page of GetContentModeration and carries on when the job FAILED;
here every page is read into one DataFrame and a failed job raises with its StatusMessage.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from helpers import checks, taxonomy
from helpers.errors import InputError, ModerationJobFailed, kit_step
from helpers.notify import Inbox
from helpers.progress import Progress
from helpers.waiting import MODERATION_BACKOFF, Backoff, wait_until

log = logging.getLogger(__name__)

SORT_BY = ("TIMESTAMP", "NAME")
AGGREGATE_BY = ("TIMESTAMPS", "SEGMENTS")
MAX_RESULTS = 1000
_TOKEN = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_JOB_TAG = re.compile(r"^[a-zA-Z0-9_.\-:]{1,1024}$")

#: Columns of the labels DataFrame, in order.
LABEL_COLUMNS = [
    "timestamp_ms",
    "label",
    "parent",
    "level",
    "category",
    "confidence",
    "start_ms",
    "end_ms",
    "duration_ms",
]


def check_request(rekognition: Any, **request: Any) -> dict[str, Any]:
    """Refuse a StartContentModeration request AWS would refuse (or never finish); return it.

    ``request`` is the call's keyword arguments, as a notebook cell writes them. Checked before
    anything is sent: ``MinConfidence`` a number from 0 to 100 (never text such as ``"50"``),
    ``ClientRequestToken`` and ``JobTag`` in Rekognition's forms, and a ``NotificationChannel``
    whose topic is in the client's own region (Rekognition publishes nowhere else, so the wait
    for the notice would only time out): ``rekognition.start_content_moderation(
    **moderation.check_request(rekognition, **request))``.
    """
    checks.number(request.get("MinConfidence", 50.0), "min_confidence", low=0, high=100)
    token = request.get("ClientRequestToken")
    if token is not None and not _TOKEN.match(str(token)):
        raise InputError(
            f"ClientRequestToken `{token}` is not accepted by Rekognition",
            "use 1-64 letters, digits, '-' or '_'",
        )
    tag = request.get("JobTag")
    if tag is not None and not _JOB_TAG.match(str(tag)):
        raise InputError(f"JobTag `{tag}` is not accepted", "use letters, digits and _ . - :")
    checks.notification_channel(request.get("NotificationChannel"), rekognition.meta.region_name)
    return request


def start_moderation(
    rekognition: Any,
    bucket: str,
    key: str,
    *,
    min_confidence: float = 50.0,
    client_request_token: str | None = None,
    job_tag: str | None = None,
    notification_channel: dict[str, str] | None = None,
) -> str:
    """Start a content moderation job on ``s3://bucket/key`` and return its JobId.

    ``client_request_token`` makes the call idempotent: starting again with the same token and
    the same arguments returns the same job instead of paying for a second one.
    Arguments AWS would reject are rejected here first, with the fix (:func:`check_request`).
    """
    args: dict[str, Any] = {
        "Video": {"S3Object": {"Bucket": bucket, "Name": key}},
        "MinConfidence": min_confidence,
    }
    if client_request_token is not None:
        args["ClientRequestToken"] = client_request_token
    if job_tag is not None:
        args["JobTag"] = job_tag
    if notification_channel:
        args["NotificationChannel"] = notification_channel
    check_request(rekognition, **args)
    args["MinConfidence"] = float(min_confidence)
    job_id = rekognition.start_content_moderation(**args)["JobId"]
    log.info("started moderation job %s on s3://%s/%s", job_id, bucket, key)
    return job_id


def wait_for_moderation(
    rekognition: Any,
    job_id: str,
    *,
    timeout: float = 3600.0,
    backoff: Backoff | None = None,
    inbox: Inbox | None = None,
    progress: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Wait until the job leaves IN_PROGRESS; return the first page of its results.

    With an ``inbox`` (see :mod:`helpers.notify`) the kit waits for Rekognition's completion
    message and asks once; without, it polls with :data:`~helpers.waiting.MODERATION_BACKOFF`
    (jittered, growing with the time waited, so the end is noticed within 10% of the job's
    duration). ``sleep`` and ``clock`` let benchmarks run on a simulated clock.
    Raises :class:`ModerationJobFailed` with Rekognition's StatusMessage when the job FAILED,
    and :class:`~helpers.errors.WaitTimeout` after ``timeout`` seconds.
    """
    what = f"Moderation job `{job_id[:12]}…`"
    shown = Progress(what, timeout, _status) if progress else None

    def fetch() -> dict[str, Any]:
        return rekognition.get_content_moderation(JobId=job_id, MaxResults=1)

    def done(resp: dict[str, Any]) -> bool:
        if resp["JobStatus"] == "FAILED":
            raise ModerationJobFailed(job_id, resp.get("StatusMessage", ""))
        return resp["JobStatus"] == "SUCCEEDED"

    if inbox is not None:
        inbox.wait(job_id, timeout=timeout, on_poll=shown, clock=clock)
        first = fetch()
        done(first)
        if shown:
            shown(first, 0.0)
        return first
    return wait_until(
        fetch,
        done,
        what=f"{what} finishing",
        timeout=timeout,
        advice="Rekognition jobs on long videos can take minutes; wait again with a longer "
        "timeout (the job keeps running; nothing is lost)",
        backoff=backoff or MODERATION_BACKOFF,
        on_poll=shown,
        sleep=sleep,
        clock=clock,
    )


def _status(answer: dict[str, Any]) -> str:
    return str(answer.get("JobStatus") or answer.get("Status") or "")


def iter_pages(
    rekognition: Any,
    job_id: str,
    *,
    sort_by: str = "TIMESTAMP",
    aggregate_by: str = "TIMESTAMPS",
    page_size: int = MAX_RESULTS,
):
    """Yield every page of GetContentModeration, following NextToken to the end."""
    if sort_by not in SORT_BY:
        raise InputError(f"SortBy `{sort_by}` is not valid", f"use one of {SORT_BY}")
    if aggregate_by not in AGGREGATE_BY:
        raise InputError(f"AggregateBy `{aggregate_by}` is not valid", f"use one of {AGGREGATE_BY}")
    if not 1 <= page_size <= MAX_RESULTS:
        raise InputError(f"MaxResults {page_size} is out of range", f"use 1 to {MAX_RESULTS}")
    args = {
        "JobId": job_id,
        "SortBy": sort_by,
        "AggregateBy": aggregate_by,
        "MaxResults": page_size,
    }
    while True:
        page = rekognition.get_content_moderation(**args)
        if page["JobStatus"] == "FAILED":
            raise ModerationJobFailed(job_id, page.get("StatusMessage", ""))
        yield page
        token = page.get("NextToken")
        if not token:
            return
        args["NextToken"] = token


def fetch_labels(
    rekognition: Any,
    job_id: str,
    *,
    aggregate_by: str = "TIMESTAMPS",
    page_size: int = MAX_RESULTS,
) -> pd.DataFrame:
    """Every moderation label of a finished job, one row per detection, as a DataFrame.

    Columns are :data:`LABEL_COLUMNS`; ``category`` is the label's top-level (L1) category.
    ``df.attrs`` holds ``job_id``, ``model_version``, ``video`` (VideoMetadata), ``pages`` and
    ``aggregate_by``. A job with no labels gives an empty frame with the same columns.
    """
    items: list[dict[str, Any]] = []
    pages = 0
    first: dict[str, Any] = {}
    for page in iter_pages(rekognition, job_id, aggregate_by=aggregate_by, page_size=page_size):
        pages += 1
        first = first or page
        items.extend(page.get("ModerationLabels", []))
    df = labels_frame(items)
    df.attrs.update(
        job_id=job_id,
        model_version=first.get("ModerationModelVersion", ""),
        video=first.get("VideoMetadata", {}),
        pages=pages,
        aggregate_by=aggregate_by,
    )
    if df.attrs["model_version"] and not df.attrs["model_version"].startswith("7"):
        log.warning(
            "moderation model %s is not taxonomy v7; rules written for v7 may not match",
            df.attrs["model_version"],
        )
    return df


@kit_step
def all_labels(rekognition: Any, job_id: str, **kwargs: Any) -> pd.DataFrame:
    """Every label of a finished job: GetContentModeration's pages, following ``NextToken``.

    The lab reads the first page only (at most 1,000 labels), so a long video loses labels.
    ``kwargs`` go to :func:`fetch_labels` (``aggregate_by``, ``page_size``).
    """
    return fetch_labels(rekognition, job_id, **kwargs)


def request_token(run_id: str, video_sha256: str, min_confidence: float) -> str:
    """A ClientRequestToken from the run, the video and the threshold (1-64 characters).

    Starting the job again with the same token returns the same JobId instead of a second,
    billed job; another video or threshold gets another token, hence another job.

    It is worked out before StartContentModeration is sent (it is one of its arguments), so it
    also checks ``min_confidence``: a number from 0 to 100, never text (``"50"``), as the
    request's ``MinConfidence`` must be. A bad value raises here and nothing is sent.
    """
    checks.number(min_confidence, "min_confidence", low=0, high=100)
    return f"{run_id}-{video_sha256[:16]}-{round(float(min_confidence) * 100)}"


def first_page_summary(page: dict[str, Any]) -> dict[str, Any]:
    """The fields of a GetContentModeration answer a person reads first (labels left out)."""
    keys = ("JobStatus", "StatusMessage", "ModerationModelVersion", "VideoMetadata")
    summary = {key: page[key] for key in keys if key in page}
    summary["ModerationLabels"] = f"{len(page.get('ModerationLabels', []))} on this page"
    summary["NextToken"] = page.get("NextToken")  # None: this page is the last one
    return summary


def labels_frame(items: list[dict[str, Any]]) -> pd.DataFrame:
    """ModerationLabels entries (either AggregateBy mode) as a labels frame.

    Columns are :data:`LABEL_COLUMNS`; built column by column, with taxonomy lookups done once
    per distinct label rather than once per row (a 6-hour video has ~150,000 rows).
    """
    labels = [item["ModerationLabel"] for item in items]
    names = [m["Name"] for m in labels]
    levels = [int(m.get("TaxonomyLevel") or 0) for m in labels]
    timestamps = [int(item.get("Timestamp", 0)) for item in items]
    starts = [
        int(item.get("StartTimestampMillis", ts))
        for item, ts in zip(items, timestamps, strict=True)
    ]
    ends = [int(item.get("EndTimestampMillis", st)) for item, st in zip(items, starts, strict=True)]
    frame = pd.DataFrame(
        {
            "timestamp_ms": np.asarray(timestamps, dtype="int64"),
            "label": names,
            "parent": [m.get("ParentName", "") for m in labels],
            "level": np.asarray(levels, dtype="int64"),
            "category": "",
            "confidence": np.asarray([m.get("Confidence", 0.0) for m in labels], dtype="float64"),
            "start_ms": np.asarray(starts, dtype="int64"),
            "end_ms": np.asarray(ends, dtype="int64"),
            "duration_ms": np.asarray(
                [
                    int(item.get("DurationMillis", end - start))
                    for item, start, end in zip(items, starts, ends, strict=True)
                ],
                dtype="int64",
            ),
        },
        columns=LABEL_COLUMNS,
    )
    if frame.empty:
        return frame
    pairs = frame[["label", "level", "parent"]].drop_duplicates()
    known = {}
    for name, lvl, parent in pairs.itertuples(index=False):
        if taxonomy.is_known(name):
            depth = lvl or taxonomy.level(name)
            known[(name, lvl, parent)] = (depth, taxonomy.top_level(name, depth))
        else:
            known[(name, lvl, parent)] = (lvl, parent or name)
    keys = list(zip(frame["label"], frame["level"], frame["parent"], strict=True))
    looked_up = [known[key] for key in keys]
    frame["level"] = np.asarray([depth for depth, _ in looked_up], dtype="int64")
    frame["category"] = [category for _, category in looked_up]
    return frame


def summarise(labels: pd.DataFrame) -> pd.DataFrame:
    """Detections per top-level category: count, labels seen, max confidence, first/last time."""
    if labels.empty:
        return pd.DataFrame(columns=["detections", "labels", "max_confidence", "first_s", "last_s"])
    g = labels.groupby("category")
    out = pd.DataFrame(
        {
            "detections": g.size(),
            "labels": g["label"].nunique(),
            "max_confidence": g["confidence"].max().round(1),
            "first_s": (g["timestamp_ms"].min() / 1000).round(1),
            "last_s": (g["timestamp_ms"].max() / 1000).round(1),
        }
    )
    return out.sort_values("detections", ascending=False)
