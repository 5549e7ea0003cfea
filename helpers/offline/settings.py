"""Settings, constants and the clock of the offline stand-in for AWS.

This module imports nothing from moto, so the kit can read the constants (for example to tell
whether it runs against the stand-in) without the ``offline`` extra installed.

The stand-in keeps one *active* :class:`OfflineSettings` object per process. :func:`mocked` and
:func:`start_server` make the settings they are given active and put the previous ones back when
they end. Change a field of the active object at any time (``aws.settings.job_seconds = 0``):
timed transitions read the settings when the resource is created, behaviour such as the auto
reviewer's policy reads them when it acts.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

#: Access key id the offline environment uses. STS answers it with the assumed-role identity of
#: :data:`OFFLINE_ROLE_NAME`, the way SageMaker Studio does. Twenty upper-case alphanumerics, as
#: moto's access-key parsing requires; ``ASIA`` marks temporary credentials.
OFFLINE_ACCESS_KEY_ID = "ASIAVMKOFFLINE000001"
#: Secret key and session token that go with :data:`OFFLINE_ACCESS_KEY_ID` (never checked).
OFFLINE_SECRET_ACCESS_KEY = "vmk-offline-secret-access-key-not-a-secret"
OFFLINE_SESSION_TOKEN = "vmk-offline-session-token"
#: The account moto uses unless ``MOTO_ACCOUNT_ID`` says otherwise.
OFFLINE_ACCOUNT_ID = "123456789012"
#: The execution role notebooks resolve offline (path ``/service-role/``, as Studio creates it).
OFFLINE_ROLE_NAME = "VideoModerationKitNotebookRole"
OFFLINE_ROLE_PATH = "/service-role/"
#: Role session name in the assumed-role ARN (``.../assumed-role/<role>/<session>``), as in Studio.
OFFLINE_ROLE_SESSION_NAME = "SageMaker"
#: Region used when nothing else says which.
DEFAULT_REGION = "us-east-1"
#: Name of the private work team present in every account and region.
DEFAULT_WORKTEAM_NAME = "kit-reviewers"
#: Two sampled detections of one label at most this far apart (ms) belong to one segment when
#: GetContentModeration aggregates by SEGMENTS. Rekognition samples video irregularly, a few
#: times a second (about 500 ms is reported); 1000 ms bridges one missed sample.
DEFAULT_SEGMENT_GAP_MS = 1000


def offline_role_arn(account_id: str = OFFLINE_ACCOUNT_ID, partition: str = "aws") -> str:
    """The IAM ARN of the offline execution role (it carries the ``/service-role/`` path)."""
    return f"arn:{partition}:iam::{account_id}:role{OFFLINE_ROLE_PATH}{OFFLINE_ROLE_NAME}"


def offline_assumed_role_arn(account_id: str = OFFLINE_ACCOUNT_ID, partition: str = "aws") -> str:
    """What STS GetCallerIdentity answers for :data:`OFFLINE_ACCESS_KEY_ID`."""
    return (
        f"arn:{partition}:sts::{account_id}:assumed-role/"
        f"{OFFLINE_ROLE_NAME}/{OFFLINE_ROLE_SESSION_NAME}"
    )


def default_recordings_dir() -> Path:
    """``<repository>/datasets/recordings``, found from this file's location."""
    return Path(__file__).resolve().parents[2] / "datasets" / "recordings"


class AutoReviewPolicy(str, Enum):
    """How the offline auto reviewer answers human loops (people answer in the worker portal).

    * ``confirm`` — every item is a ``violation``;
    * ``reject`` — every item is ``not_violation``;
    * ``mixed`` — deterministic by a hash of the item id: mostly ``violation``, one in four
      ``not_violation`` (from three items on), and (with two items or more) exactly one
      ``wrong_category`` with a corrected v7 category;
    * ``truth`` — answers from what the sample media really show (``datasets/truth.json``),
      each reviewer right with its chance in ``OfflineSettings.reviewer_accuracy``
      (:mod:`helpers.offline.truth`);
    * ``off`` — never answers; loops stay ``InProgress`` until stopped or expired.
    """

    CONFIRM = "confirm"
    REJECT = "reject"
    MIXED = "mixed"
    TRUTH = "truth"
    OFF = "off"

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass
class OfflineSettings:
    """Everything about the stand-in's behaviour that a test, a notebook or the CLI may choose.

    Times are wall-clock seconds measured with the stand-in's clock (see :func:`advance_clock`).
    """

    #: Region for the printed environment and for :func:`mocked`'s ``AWS_DEFAULT_REGION``.
    region: str = DEFAULT_REGION
    #: StartContentModeration jobs stay ``IN_PROGRESS`` this long after they start.
    job_seconds: float = 3.0
    #: CreateFlowDefinition: ``Initializing`` this long, then ``Active``.
    flow_definition_seconds: float = 1.0
    #: DeleteFlowDefinition: ``Deleting`` this long, then gone.
    flow_definition_delete_seconds: float = 1.0
    #: StopHumanLoop: ``Stopping`` this long, then ``Stopped``.
    loop_stop_seconds: float = 1.0
    #: Policy of the auto reviewer.
    auto_review: AutoReviewPolicy = AutoReviewPolicy.MIXED
    #: The first N DescribeHumanLoop calls of a loop see ``InProgress``; the auto reviewer answers
    #: right after the N-th (so the next call sees ``Completed``). 0 answers on the first call.
    answer_after_describes: int = 2
    #: Where the Rekognition recordings (``*.json``) are read from.
    recordings_dir: Path = dataclasses.field(default_factory=default_recordings_dir)
    #: Name of the private work team present in every account and region.
    workteam_name: str = DEFAULT_WORKTEAM_NAME
    #: ``Workteam.SubDomain``. None: while a stand-in server runs, its worker portal as a host
    #: name, ``worker-portal.localhost:<port>`` (AWS gives a host name); without a server,
    #: ``<random>.labeling.<region>.sagemaker.aws``. ``"url"``: the portal's full URL,
    #: ``http://127.0.0.1:<port>/_portal/`` (the earlier default). ``"localhost"``: the host
    #: name, as None. Any other value is reported as it is (for example ``127.0.0.1:8080``).
    workteam_subdomain: str | None = None
    #: Concurrent IN_PROGRESS moderation jobs per account and region before
    #: StartContentModeration answers LimitExceededException (AWS's default quota is about 20).
    max_concurrent_jobs: int = 20
    #: Gap tolerance (ms) of SEGMENTS aggregation; see :data:`DEFAULT_SEGMENT_GAP_MS`.
    segment_gap_ms: int = DEFAULT_SEGMENT_GAP_MS
    #: ``truth`` policy: the chance each simulated reviewer (worker 0, 1, ...) is right; workers
    #: beyond the list use its last entry.
    reviewer_accuracy: tuple[float, ...] = (0.95, 0.8)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, _coerce(name, value))

    @classmethod
    def instant(cls, **overrides: Any) -> OfflineSettings:
        """Settings where nothing takes time: jobs, flow definitions, deletions and stops are
        immediate, and the auto reviewer answers at the first status check (tests, benchmarks)."""
        values: dict[str, Any] = {
            "job_seconds": 0,
            "flow_definition_seconds": 0,
            "flow_definition_delete_seconds": 0,
            "loop_stop_seconds": 0,
            "answer_after_describes": 1,
        }
        return cls(**{**values, **overrides})

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view (paths and enums as strings)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, (Path, Enum)) else value
        return out

    def update(self, changes: dict[str, Any]) -> OfflineSettings:
        """Validate and apply ``changes`` (field name → value) all-or-nothing; return ``self``.

        Raises ``ValueError`` naming the field for an unknown field or a bad value.
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; known: {sorted(names)}")
        coerced = {name: _coerce(name, value) for name, value in changes.items()}
        for name, value in coerced.items():
            setattr(self, name, value)
        return self


_NON_NEGATIVE_FLOATS = (
    "job_seconds",
    "flow_definition_seconds",
    "flow_definition_delete_seconds",
    "loop_stop_seconds",
)
_NON_NEGATIVE_INTS = ("answer_after_describes", "segment_gap_ms")


def _coerce(name: str, value: Any) -> Any:
    if name in _NON_NEGATIVE_FLOATS:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"{name} must be a number of seconds, not {value!r}")
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{name} must be >= 0 (and finite), not {value!r}")
        return number
    if name in _NON_NEGATIVE_INTS or name == "max_concurrent_jobs":
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an integer, not {value!r}")
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{name} must be an integer, not {value!r}") from None
        low = 1 if name == "max_concurrent_jobs" else 0
        if number < low or number != float(value):
            raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")
        return number
    if name == "auto_review":
        try:
            return AutoReviewPolicy(str(value.value if isinstance(value, Enum) else value))
        except ValueError:
            choices = ", ".join(p.value for p in AutoReviewPolicy)
            raise ValueError(f"auto_review must be one of {choices}, not {value!r}") from None
    if name == "recordings_dir":
        if not isinstance(value, (str, Path)) or not str(value):
            raise ValueError(f"recordings_dir must be a folder path, not {value!r}")
        return Path(value)
    if name == "reviewer_accuracy":
        values = [value] if isinstance(value, (int, float, str)) else value
        try:
            out = tuple(float(v) for v in values if not isinstance(v, bool))
        except (TypeError, ValueError):
            out = ()
        if not out or len(out) != len(values) or not all(0 <= v <= 1 for v in out):
            raise ValueError(f"reviewer_accuracy must be chances from 0 to 1, not {value!r}")
        return out
    if name in ("region", "workteam_name"):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        return value
    if name == "workteam_subdomain":
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(
                f"workteam_subdomain must be a non-empty string or None, not {value!r}"
            )
        return value
    return value


class _Runtime:
    """The process-wide active settings and clock offset (guarded by a lock)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.settings = OfflineSettings()
        self.offset_seconds = 0.0


_RUNTIME = _Runtime()


def current_settings() -> OfflineSettings:
    """The active settings object (mutate it to change behaviour at runtime)."""
    return _RUNTIME.settings


def activate(settings: OfflineSettings) -> tuple[OfflineSettings, float]:
    """Make ``settings`` active with the clock offset reset and no faults armed; return what
    was active before."""
    from helpers.offline import faults

    faults.clear()
    with _RUNTIME.lock:
        previous = (_RUNTIME.settings, _RUNTIME.offset_seconds)
        _RUNTIME.settings = settings
        _RUNTIME.offset_seconds = 0.0
        return previous


def restore(previous: tuple[OfflineSettings, float]) -> None:
    """Undo :func:`activate` with the value it returned (and disarm any fault)."""
    from helpers.offline import faults

    faults.clear()
    with _RUNTIME.lock:
        _RUNTIME.settings, _RUNTIME.offset_seconds = previous


def now() -> datetime:
    """The stand-in's current time: UTC wall clock plus the offset :func:`advance_clock` added."""
    return datetime.fromtimestamp(time.time() + _RUNTIME.offset_seconds, tz=timezone.utc)


def advance_clock(seconds: float) -> datetime:
    """Move the stand-in's clock forward (timed transitions happen without sleeping)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ValueError(f"seconds must be a number, not {seconds!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"seconds must be finite, not {seconds!r}")
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    with _RUNTIME.lock:
        _RUNTIME.offset_seconds += float(seconds)
    return now()


def after(seconds: float) -> datetime:
    """``now() + seconds``."""
    return now() + timedelta(seconds=seconds)
