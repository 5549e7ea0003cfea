"""Rekognition StartContentModeration / GetContentModeration for the stand-in.

The operations are added to moto's ``RekognitionResponse``; their state lives on moto's
Rekognition backend of the account and region, so a moto reset wipes it.

A job reads the S3 object when it starts (InvalidS3ObjectException when it is missing or its
bucket is in another region) and picks the results it will replay: the recording whose SHA-256
matches the bytes, else the recording with the same file name (logged warning), else none — the
job then succeeds with no labels and metadata read from the file's headers. Bytes that are not
an MP4/MOV/AVI container, or a video whose codec is readable and not H.264, make the job FAILED
with a StatusMessage, as Rekognition does. A job stays IN_PROGRESS for
``OfflineSettings.job_seconds`` after it starts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
import threading
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.rekognition.models import RekognitionBackend, rekognition_backends
from moto.rekognition.responses import RekognitionResponse

from helpers.offline import exceptions as err
from helpers.offline import faults, recordings, settings
from helpers.offline.exceptions import service_error
from helpers.offline.locks import STATE_LOCK
from helpers.offline.validation import validate
from helpers.taxonomy import MODEL_VERSION as DEFAULT_MODEL_VERSION

LOG = logging.getLogger("helpers.offline")

SERVICE = "rekognition"
MAX_PAGE = 1000
DEFAULT_MIN_CONFIDENCE = 50.0
MAX_VIDEO_BYTES = 10 * 1024**3
_S3_MESSAGE = (
    "Unable to get object metadata from S3. Check object key, region and/or access permissions."
)
_LOCK = STATE_LOCK


@dataclasses.dataclass
class ModerationJob:
    """One StartContentModeration job."""

    job_id: str
    video: dict[str, Any]
    min_confidence: float
    job_tag: str | None
    notification_channel: dict[str, Any] | None
    fingerprint: str
    created_at: datetime
    ready_at: datetime
    rows: list[dict[str, Any]]
    video_metadata: dict[str, Any]
    model_version: str
    failure: str | None = None
    notified: bool = False
    page_tokens: dict[str, int] = dataclasses.field(default_factory=dict)
    #: Sorted (and segmented) views of ``rows``, by (AggregateBy, SortBy, segment gap).
    views: dict[tuple[str, str, int], list[dict[str, Any]]] = dataclasses.field(
        default_factory=dict
    )

    def status(self, at: datetime | None = None) -> str:
        """IN_PROGRESS, SUCCEEDED or FAILED at the stand-in's current time."""
        if (at or settings.now()) < self.ready_at:
            return "IN_PROGRESS"
        return "FAILED" if self.failure else "SUCCEEDED"


@dataclasses.dataclass
class ModerationState:
    """What the stand-in keeps on one Rekognition backend."""

    jobs: dict[str, ModerationJob] = dataclasses.field(default_factory=dict)
    tokens: dict[str, str] = dataclasses.field(default_factory=dict)


def state_of(backend: RekognitionBackend) -> ModerationState:
    """The moderation state attached to ``backend`` (created on first use; reset wipes it)."""
    with _LOCK:
        state = backend.__dict__.get("_vmk_moderation")
        if state is None:
            state = ModerationState()
            backend.__dict__["_vmk_moderation"] = state
        return state


def _params(response: RekognitionResponse) -> dict[str, Any]:
    try:
        body = json.loads(response.body or "{}")
    except ValueError:
        raise service_error(err.INVALID_PARAMETER, "Request has invalid parameters") from None
    return body if isinstance(body, dict) else {}


def _fingerprint(params: dict[str, Any]) -> str:
    relevant = {
        k: params.get(k) for k in ("Video", "MinConfidence", "NotificationChannel", "JobTag")
    }
    return json.dumps(relevant, sort_keys=True, default=str)


def start_content_moderation(backend: RekognitionBackend, params: dict[str, Any]) -> ModerationJob:
    """Validate a StartContentModeration request and start (or, idempotently, return) its job."""
    validate(SERVICE, "StartContentModeration", params, err.INVALID_PARAMETER)
    s3_object = (params.get("Video") or {}).get("S3Object")
    if not isinstance(s3_object, dict) or not s3_object.get("Bucket") or not s3_object.get("Name"):
        raise service_error(
            err.INVALID_PARAMETER,
            "Request has invalid parameters: Video.S3Object needs Bucket and Name",
        )
    state = state_of(backend)
    cfg = settings.current_settings()
    fingerprint = _fingerprint(params)
    token = params.get("ClientRequestToken")
    with _LOCK:
        if token and token in state.tokens:
            job = state.jobs.get(state.tokens[token])
            if job is not None:
                if job.fingerprint != fingerprint:
                    raise service_error(
                        err.IDEMPOTENT_MISMATCH,
                        f"ClientRequestToken {token} was already used with different parameters",
                    )
                return job
        running = sum(1 for j in state.jobs.values() if j.status() == "IN_PROGRESS")
        if running >= cfg.max_concurrent_jobs:
            raise service_error(
                err.LIMIT_EXCEEDED,
                f"Too many concurrent jobs: {running} moderation jobs are IN_PROGRESS "
                f"(limit {cfg.max_concurrent_jobs}). Wait for one to finish.",
            )
    data = _read_video(backend, s3_object)
    job = _new_job(backend, params, fingerprint, data, s3_object, cfg)
    with _LOCK:
        state.jobs[job.job_id] = job
        if token:
            state.tokens[token] = job.job_id
    if job.notification_channel:
        _schedule_notification(backend, job)
    LOG.info(
        "moderation job %s for s3://%s/%s: %d label row(s) at MinConfidence %.1f, %s in %.1f s",
        job.job_id,
        s3_object["Bucket"],
        s3_object["Name"],
        len(job.rows),
        job.min_confidence,
        "FAILED" if job.failure else "SUCCEEDED",
        cfg.job_seconds,
    )
    return job


def _read_video(backend: RekognitionBackend, s3_object: dict[str, Any]) -> bytes:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    s3 = s3_backends[backend.account_id][get_partition(backend.region_name)]
    bucket = s3.buckets.get(s3_object["Bucket"])
    if bucket is None:
        LOG.info(
            "InvalidS3ObjectException: bucket %s does not exist in account %s",
            s3_object["Bucket"],
            backend.account_id,
        )
        raise service_error(err.INVALID_S3_OBJECT, _S3_MESSAGE)
    if bucket.region_name != backend.region_name:
        LOG.info(
            "InvalidS3ObjectException: bucket %s is in %s, the Rekognition client in %s",
            bucket.name,
            bucket.region_name,
            backend.region_name,
        )
        raise service_error(err.INVALID_S3_OBJECT, _S3_MESSAGE)
    version = s3_object.get("Version")
    key = s3.get_object(bucket.name, s3_object["Name"], version_id=version)
    if key is None:
        LOG.info(
            "InvalidS3ObjectException: no object s3://%s/%s%s",
            s3_object["Bucket"],
            s3_object["Name"],
            f" version {version}" if version else "",
        )
        raise service_error(err.INVALID_S3_OBJECT, _S3_MESSAGE)
    if key.size > MAX_VIDEO_BYTES:
        raise service_error(err.VIDEO_TOO_LARGE, "The video is larger than 10 GB.")
    return bytes(key.value)


def _new_job(
    backend: RekognitionBackend,
    params: dict[str, Any],
    fingerprint: str,
    data: bytes,
    s3_object: dict[str, Any],
    cfg: settings.OfflineSettings,
) -> ModerationJob:
    min_confidence = float(params.get("MinConfidence", DEFAULT_MIN_CONFIDENCE))
    sha = hashlib.sha256(data).hexdigest()
    recording, why = recordings.match_recording(cfg.recordings_dir, sha, s3_object["Name"])
    failure: str | None = None
    rows: list[dict[str, Any]] = []
    metadata: dict[str, Any] = {}
    model_version = DEFAULT_MODEL_VERSION
    if recording is not None:
        (LOG.warning if "file name" in why else LOG.info)("moderation job: %s", why)
        rows = recordings.filter_rows(recording.rows, min_confidence)
        metadata = dict(recording.video_metadata)
        model_version = recording.model_version or DEFAULT_MODEL_VERSION
    else:
        container = recordings.sniff_container(data)
        probed = recordings.probe_video_metadata(data) if container in ("mp4", "mov") else None
        if container is None:
            failure = "Unsupported codec/format."
            LOG.warning(
                "moderation job FAILS: s3://%s/%s is not an MP4, MOV or AVI file (%s)",
                s3_object["Bucket"],
                s3_object["Name"],
                why,
            )
        elif probed and probed.get("Codec") not in (None, "h264"):
            failure = "Unsupported codec/format."
            LOG.warning(
                "moderation job FAILS: s3://%s/%s uses codec %s; Rekognition Video needs H.264",
                s3_object["Bucket"],
                s3_object["Name"],
                probed.get("Codec"),
            )
        else:
            metadata = probed or {}
            LOG.warning(
                "moderation job succeeds with no labels: %s. Add a recording to replay results.",
                why,
            )
    forced = faults.take("fail_jobs")
    if forced:
        failure = str(forced)
    created = settings.now()
    return ModerationJob(
        job_id=secrets.token_hex(32),
        video={"S3Object": dict(s3_object)},
        min_confidence=min_confidence,
        job_tag=params.get("JobTag"),
        notification_channel=params.get("NotificationChannel"),
        fingerprint=fingerprint,
        created_at=created,
        ready_at=settings.after(cfg.job_seconds),
        rows=rows,
        video_metadata=metadata,
        model_version=model_version,
        failure=failure,
    )


def get_content_moderation(backend: RekognitionBackend, params: dict[str, Any]) -> dict[str, Any]:
    """The GetContentModeration response for ``params``."""
    validate(SERVICE, "GetContentModeration", params, err.INVALID_PARAMETER)
    state = state_of(backend)
    job = state.jobs.get(params["JobId"])
    if job is None:
        raise service_error(
            err.RESOURCE_NOT_FOUND_EXCEPTION,
            f"The resource specified in the request cannot be found: job {params['JobId']}",
        )
    sort_by = params.get("SortBy") or "TIMESTAMP"
    aggregate_by = params.get("AggregateBy") or "TIMESTAMPS"
    max_results = min(int(params.get("MaxResults") or MAX_PAGE), MAX_PAGE)
    offset = 0
    token = params.get("NextToken")
    if token:
        with _LOCK:
            found = job.page_tokens.get(token)
        if found is None:
            raise service_error(err.INVALID_PAGINATION_TOKEN, "Invalid Token")
        offset = found
    status = job.status()
    _notify_if_due(backend, job)
    response: dict[str, Any] = {
        "JobStatus": status,
        "JobId": job.job_id,
        "Video": job.video,
        "GetRequestMetadata": {"SortBy": sort_by, "AggregateBy": aggregate_by},
        "ModerationLabels": [],
    }
    if job.job_tag:
        response["JobTag"] = job.job_tag
    if status == "IN_PROGRESS":
        return response
    if status == "FAILED":
        response["StatusMessage"] = job.failure
        return response
    gap = settings.current_settings().segment_gap_ms
    key = (aggregate_by, sort_by, gap)
    with _LOCK:
        rows = job.views.get(key)
    if rows is None:
        rows = recordings.segments(job.rows, gap) if aggregate_by == "SEGMENTS" else list(job.rows)
        rows = recordings.sort_rows(rows, sort_by)
        with _LOCK:
            job.views[key] = rows
    page = rows[offset : offset + max_results]
    response["ModerationLabels"] = page
    response["ModerationModelVersion"] = job.model_version
    if job.video_metadata:
        response["VideoMetadata"] = job.video_metadata
    if offset + max_results < len(rows):
        next_token = secrets.token_urlsafe(48)
        with _LOCK:
            job.page_tokens[next_token] = offset + max_results
        response["NextToken"] = next_token
    return response


# --- SNS completion notification --------------------------------------------------------------


def _notify_if_due(backend: RekognitionBackend, job: ModerationJob) -> None:
    if not job.notification_channel or job.status() == "IN_PROGRESS":
        return
    with _LOCK:
        if job.notified or state_of(backend).jobs.get(job.job_id) is not job:
            return
        job.notified = True
    _publish(backend, job)


def _publish(backend: RekognitionBackend, job: ModerationJob) -> None:
    from moto.sns.models import sns_backends

    topic_arn = job.notification_channel["SNSTopicArn"]  # type: ignore[index]
    parts = topic_arn.split(":")
    account, region = parts[4], parts[3]
    message = {
        "JobId": job.job_id,
        "Status": job.status(),
        "API": "StartContentModeration",
        "JobTag": job.job_tag,
        "Timestamp": int(job.ready_at.timestamp() * 1000),
        "Video": {
            "S3ObjectName": job.video["S3Object"]["Name"],
            "S3Bucket": job.video["S3Object"]["Bucket"],
        },
    }
    if job.job_tag is None:
        del message["JobTag"]
    try:
        sns = sns_backends[account][region]
        if topic_arn not in sns.topics:
            LOG.warning(
                "moderation job %s: SNS topic %s does not exist; not notified",
                job.job_id,
                topic_arn,
            )
            return
        sns.publish(json.dumps(message), arn=topic_arn)
        LOG.info("moderation job %s: published %s to %s", job.job_id, message["Status"], topic_arn)
    except Exception:  # the notification must never break the API call that triggered it
        LOG.exception("moderation job %s: publishing to %s failed", job.job_id, topic_arn)


def _schedule_notification(backend: RekognitionBackend, job: ModerationJob) -> None:
    delay = max(0.0, (job.ready_at - settings.now()).total_seconds())
    timer = threading.Timer(delay, _notify_if_due, args=(backend, job))
    timer.daemon = True
    timer.start()


def notify_due_jobs() -> None:
    """Publish the completion notifications that are due (after the clock moved forward)."""
    for _account, _region, backend in list(rekognition_backends.iter_backends()):
        state = backend.__dict__.get("_vmk_moderation")
        if state is not None:
            for job in list(state.jobs.values()):
                _notify_if_due(backend, job)  # type: ignore[arg-type]


# --- moto Response methods --------------------------------------------------------------------


def _backend_of(response: RekognitionResponse) -> RekognitionBackend:
    return rekognition_backends[response.current_account][response.region]


def _start_content_moderation(self: RekognitionResponse) -> ActionResult:
    job = start_content_moderation(_backend_of(self), _params(self))
    return ActionResult({"JobId": job.job_id})


def _get_content_moderation(self: RekognitionResponse) -> tuple[str, dict[str, str]]:
    # The answer holds only strings and numbers, so plain JSON is exactly what the JSON protocol
    # sends; moto's generic serializer would take ~0.1 s per 1,000-label page. The content type
    # is the protocol's (AWS: application/x-amz-json-1.1), not the web server's text/html.
    body = json.dumps(get_content_moderation(_backend_of(self), _params(self)))
    return body, {"Content-Type": JSON_CONTENT_TYPE}


#: Content type of the json protocol's answers (botocore model metadata: jsonVersion 1.1).
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"

RESPONSE_METHODS = {
    "start_content_moderation": _start_content_moderation,
    "get_content_moderation": _get_content_moderation,
}


def register() -> None:
    """Add the operations to moto's RekognitionResponse (idempotent)."""
    for name, function in RESPONSE_METHODS.items():
        if getattr(RekognitionResponse, name, None) is not function:
            if hasattr(RekognitionResponse, name):
                LOG.debug("replacing moto's RekognitionResponse.%s", name)
            setattr(RekognitionResponse, name, function)
