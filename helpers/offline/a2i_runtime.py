"""The Amazon A2I runtime (``sagemaker-a2i-runtime``) as a new moto service.

moto 5.2 has no such service. :func:`register` makes moto find this one the way it finds its
own: a module ``moto.sagemakera2iruntime`` exposing ``sagemakera2iruntime_backends`` and a URL
pattern for ``a2i-runtime.sagemaker.<region>.amazonaws.com`` in
``moto.backend_index.backend_url_patterns``. The backend borrows SageMaker's region list.

Human loops move InProgress → Completed when answered (through :func:`submit_task`, the
worker portal's submit path, which the auto reviewer uses too, and which calls
:func:`complete_human_loop`), InProgress → Stopping → Stopped after
StopHumanLoop, and InProgress → Failed (``Expired``) when the flow definition's
``TaskAvailabilityLifetimeInSeconds`` passes unanswered. Completing a loop writes A2I's
``output.json`` to S3.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import sys
import threading
import types
import uuid
from datetime import datetime, timedelta
from typing import Any

import moto
from moto import backend_index
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import ActionResult, BaseResponse, EmptyResult

from helpers.offline import exceptions as err
from helpers.offline import faults, reviewer, settings
from helpers.offline import sagemaker as sm
from helpers.offline.exceptions import service_error
from helpers.offline.locks import STATE_LOCK
from helpers.offline.paging import page
from helpers.offline.validation import strict_json, validate

LOG = logging.getLogger("helpers.offline")

SERVICE = "sagemaker-a2i-runtime"
#: Name of the service in moto's backend index; ``get_backend`` imports ``moto.<name>``.
BACKEND_NAME = "sagemakera2iruntime"
MODULE_NAME = f"moto.{BACKEND_NAME}"
URL_BASE = r"https?://a2i-runtime\.sagemaker\.(.+)\.amazonaws\.com"
URL_PATTERN = re.compile(URL_BASE)
DEFAULT_MAX_RESULTS = 100
#: A2I's default when the flow definition sets no TaskAvailabilityLifetimeInSeconds (10 days).
DEFAULT_AVAILABILITY_SECONDS = 864_000
_DELETABLE = ("Completed", "Failed", "Stopped")
#: Statuses whose DescribeHumanLoop carries ``HumanLoopOutput.OutputS3Uri`` (where the output
#: is or will be): AWS's saved outputs show it while InProgress and once Completed (the
#: Comprehend Custom Classification A2I sample prints both). Unknown for the others: left out.
_OUTPUT_SHOWN = ("InProgress", "Completed")


@dataclasses.dataclass(frozen=True)
class Worker:
    """Who answered a task, as A2I records it in ``output.json``."""

    worker_id: str
    sub: str
    issuer: str
    identity_provider_type: str = "Cognito"

    def metadata(self) -> dict[str, Any]:
        """``workerMetadata`` of a human answer."""
        return {
            "identityData": {
                "identityProviderType": self.identity_provider_type,
                "issuer": self.issuer,
                "sub": self.sub,
            }
        }


class HumanLoopClosed(ValueError):
    """An answer arrived for a loop that no longer takes answers (not InProgress)."""


@dataclasses.dataclass
class HumanLoop:
    """One human loop."""

    name: str
    arn: str
    flow_definition_arn: str
    flow_definition_name: str
    input_content: str
    input_object: Any
    data_attributes: dict[str, Any] | None
    created_at: datetime
    task_count: int
    output_path: str
    expires_at: datetime
    status: str = "InProgress"
    failure_reason: str | None = None
    failure_code: str | None = None
    stop_at: datetime | None = None
    output_s3_uri: str | None = None
    describes: int = 0
    answers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: When each worker (by id) opened the task in the worker portal.
    accepted: dict[str, datetime] = dataclasses.field(default_factory=dict)
    #: Set by an injected fault: the loop ends this way (Failed, Expired or Stopped).
    forced_outcome: str | None = None

    def refresh(self) -> None:
        """Apply the timed transitions due at the stand-in's current time."""
        current = settings.now()
        if self.forced_outcome and self.status == "InProgress":
            outcome, self.forced_outcome = self.forced_outcome, None
            if outcome == "Stopped":
                self.status = "Stopped"
            else:
                self.status = "Failed"
                self.failure_code = "Expired" if outcome == "Expired" else "InternalError"
                self.failure_reason = (
                    "The human loop expired before workers completed its tasks."
                    if outcome == "Expired"
                    else "An internal error occurred while processing the human loop."
                )
            return
        if self.status == "Stopping" and self.stop_at is not None and current >= self.stop_at:
            self.status = "Stopped"
        elif self.status == "InProgress" and current >= self.expires_at:
            self.status = "Failed"
            self.failure_code = "Expired"
            self.failure_reason = "The human loop expired before workers completed its tasks."

    def describe(self) -> dict[str, Any]:
        """DescribeHumanLoop response."""
        out: dict[str, Any] = {
            "CreationTime": self.created_at,
            "HumanLoopStatus": self.status,
            "HumanLoopName": self.name,
            "HumanLoopArn": self.arn,
            "FlowDefinitionArn": self.flow_definition_arn,
        }
        if self.status == "Failed":
            out["FailureReason"] = self.failure_reason
            out["FailureCode"] = self.failure_code
        if self.status in _OUTPUT_SHOWN:
            bucket, key = output_location(self)
            out["HumanLoopOutput"] = {"OutputS3Uri": self.output_s3_uri or f"s3://{bucket}/{key}"}
        return out

    def summary(self) -> dict[str, Any]:
        """ListHumanLoops entry."""
        out: dict[str, Any] = {
            "HumanLoopName": self.name,
            "HumanLoopStatus": self.status,
            "CreationTime": self.created_at,
            "FlowDefinitionArn": self.flow_definition_arn,
        }
        if self.status == "Failed":
            out["FailureReason"] = self.failure_reason
        return out


class A2IRuntimeBackend(BaseBackend):
    """Human loops of one account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.human_loops: dict[str, HumanLoop] = {}

    @property
    def lock(self) -> threading.RLock:
        """The stand-in's state lock (see :mod:`helpers.offline.locks`)."""
        return STATE_LOCK

    @property
    def _url_module(self) -> Any:
        return _URL_MODULE

    def loop(self, name: str) -> HumanLoop:
        """The loop called ``name`` (refreshed), or ResourceNotFoundException."""
        loop = self.human_loops.get(name)
        if loop is None:
            raise service_error(
                err.RESOURCE_NOT_FOUND_EXCEPTION, f"Human loop {name} does not exist."
            )
        loop.refresh()
        return loop

    # --- operations ---

    def start_human_loop(self, params: dict[str, Any]) -> HumanLoop:
        """StartHumanLoop."""
        validate(SERVICE, "StartHumanLoop", params, err.VALIDATION)
        name = params["HumanLoopName"]
        flow_arn = params["FlowDefinitionArn"]
        content = params["HumanLoopInput"]["InputContent"]
        try:
            parsed = strict_json(content)
        except ValueError as error:
            raise service_error(
                err.VALIDATION, f"HumanLoopInput.InputContent is not valid JSON: {error}"
            ) from None
        flow = self._active_flow_definition(flow_arn)
        with self.lock:
            existing = self.human_loops.get(name)
            if existing is not None:
                if existing.input_content == content and existing.flow_definition_arn == flow_arn:
                    LOG.info("StartHumanLoop %s repeated with the same input: same loop", name)
                    return existing
                raise service_error(
                    err.CONFLICT,
                    f"Human loop {name} already exists with different input data or flow "
                    "definition; human loop names are unique in a Region of an account.",
                )
            human_task = flow.request["HumanLoopConfig"]
            lifetime = human_task.get("TaskAvailabilityLifetimeInSeconds")
            created = _to_ms(settings.now())
            loop = HumanLoop(
                name=name,
                arn=(
                    f"arn:{self.partition}:sagemaker:{self.region_name}:{self.account_id}:"
                    f"human-loop/{name}"
                ),
                flow_definition_arn=flow.arn,
                flow_definition_name=flow.name,
                input_content=content,
                input_object=parsed,
                data_attributes=params.get("DataAttributes"),
                created_at=created,
                task_count=flow.task_count,
                output_path=flow.output_path,
                expires_at=created + timedelta(seconds=lifetime or DEFAULT_AVAILABILITY_SECONDS),
                forced_outcome=faults.take("loops"),
            )
            self.human_loops[name] = loop
        LOG.info("human loop %s started (flow definition %s)", name, flow.name)
        return loop

    def _active_flow_definition(self, arn: str) -> sm.FlowDefinition:
        parts = arn.split(":")
        flow = None
        if parts[3:5] == [self.region_name, self.account_id]:
            flow = sm.find_flow_definition(self.account_id, self.region_name, arn)
        if flow is None:
            raise service_error(err.VALIDATION, f"Flow definition {arn} does not exist.")
        status = flow.status()
        if status != "Active":
            raise service_error(
                err.VALIDATION,
                f"Flow definition {arn} is not active (status {status}); wait until "
                "DescribeFlowDefinition reports Active.",
            )
        return flow

    def describe_human_loop(self, name: str) -> HumanLoop:
        """DescribeHumanLoop; the auto reviewer answers after enough of these calls."""
        with self.lock:
            loop = self.loop(name)
            loop.describes += 1
            cfg = settings.current_settings()
            if (
                loop.status == "InProgress"
                and cfg.auto_review is not settings.AutoReviewPolicy.OFF
                and loop.describes > cfg.answer_after_describes
            ):
                auto_review(self, loop, cfg.auto_review)
            return loop

    def list_human_loops(self, params: dict[str, Any]) -> tuple[list[HumanLoop], str | None]:
        """ListHumanLoops."""
        validate(SERVICE, "ListHumanLoops", params, err.VALIDATION)
        flow_arn = params["FlowDefinitionArn"]
        parts = flow_arn.split(":")
        if parts[3:5] != [self.region_name, self.account_id] or not sm.find_flow_definition(
            self.account_id, self.region_name, flow_arn
        ):
            raise service_error(
                err.RESOURCE_NOT_FOUND_EXCEPTION, f"Flow definition {flow_arn} does not exist."
            )
        after, before = params.get("CreationTimeAfter"), params.get("CreationTimeBefore")
        with self.lock:
            loops = []
            for loop in self.human_loops.values():
                loop.refresh()
                if loop.flow_definition_arn != flow_arn:
                    continue
                if after is not None and loop.created_at < sm._aware(after):
                    continue
                if before is not None and loop.created_at >= sm._aware(before):
                    continue
                loops.append(loop)
        descending = (params.get("SortOrder") or "Descending") == "Descending"
        loops.sort(key=lambda item: item.created_at, reverse=descending)
        filters = {k: str(v) for k, v in params.items() if k not in ("NextToken", "MaxResults")}
        return page(
            loops,
            max_results=int(params.get("MaxResults") or DEFAULT_MAX_RESULTS),
            next_token=params.get("NextToken"),
            filters=filters,
            error_code=err.VALIDATION,
        )

    def stop_human_loop(self, name: str) -> HumanLoop:
        """StopHumanLoop: InProgress → Stopping → Stopped; Completed/Failed cannot stop."""
        with self.lock:
            loop = self.loop(name)
            if loop.status in ("Completed", "Failed"):
                raise service_error(
                    err.VALIDATION, f"Human loop {name} is {loop.status} and cannot be stopped."
                )
            if loop.status == "InProgress":
                loop.status = "Stopping"
                loop.stop_at = settings.after(settings.current_settings().loop_stop_seconds)
                loop.refresh()
            return loop

    def delete_human_loop(self, name: str) -> None:
        """DeleteHumanLoop: only Completed, Failed or Stopped loops."""
        with self.lock:
            loop = self.loop(name)
            if loop.status not in _DELETABLE:
                raise service_error(
                    err.VALIDATION,
                    f"Human loop {name} is {loop.status}; only {', '.join(_DELETABLE)} human "
                    "loops can be deleted (stop it first).",
                )
            del self.human_loops[name]


def active_loops(account_id: str, region: str, flow_arn: str) -> list[str]:
    """Names of the loops of a flow definition that are InProgress or Stopping."""
    backend = a2i_runtime_backends[account_id][region]
    with backend.lock:
        names = []
        for loop in backend.human_loops.values():
            loop.refresh()
            if loop.flow_definition_arn == flow_arn and loop.status in ("InProgress", "Stopping"):
                names.append(loop.name)
        return names


# --- tasks: opening and submitting (the worker portal and the auto reviewer) ---------------

#: A2I's default task time limit when the flow definition sets none (seconds).
DEFAULT_TASK_TIME_LIMIT = 3600


class TaskTimeLimitPassed(ValueError):
    """The worker took longer than the flow definition's TaskTimeLimitInSeconds."""


def flow_of(backend: A2IRuntimeBackend, loop: HumanLoop) -> Any:
    """The loop's flow definition (None once deleted)."""
    return sm.find_flow_definition(
        backend.account_id, backend.region_name, loop.flow_definition_arn
    )


def time_limit(backend: A2IRuntimeBackend, loop: HumanLoop) -> int:
    """The loop's TaskTimeLimitInSeconds (A2I's default when the flow definition sets none)."""
    flow = flow_of(backend, loop)
    config = flow.request.get("HumanLoopConfig", {}) if flow is not None else {}
    return int(config.get("TaskTimeLimitInSeconds") or DEFAULT_TASK_TIME_LIMIT)


def accept(
    backend: A2IRuntimeBackend,
    loop: HumanLoop,
    worker: Worker,
    at: datetime | None = None,
) -> datetime:
    """Record that ``worker`` opened the task (kept while the time limit runs); return when."""
    with backend.lock:
        moment = at or settings.now()
        previous = loop.accepted.get(worker.worker_id)
        if previous is not None and moment - previous <= timedelta(
            seconds=time_limit(backend, loop)
        ):
            return previous
        loop.accepted[worker.worker_id] = moment
        return moment


def submit_task(
    backend: A2IRuntimeBackend,
    loop: HumanLoop,
    answer_content: Any,
    worker: Worker,
    *,
    accepted_at: datetime | None = None,
    submitted_at: datetime | None = None,
) -> HumanLoop:
    """Record ``worker``'s answer to ``loop``, as the worker portal's Submit does.

    ``answer_content`` is what crowd-form submitted (a JSON object); it is stored as JSON
    would carry it. The acceptance time is ``accepted_at``, else when the worker opened the
    task, else the submission time. Raises :class:`TaskTimeLimitPassed` after the flow
    definition's TaskTimeLimitInSeconds, :class:`~helpers.offline.HumanLoopClosed`
    when the loop takes no more answers, and ``ValueError`` for content that is not a JSON
    object. Completing the loop writes ``output.json`` (see
    :func:`~helpers.offline.complete_human_loop`).
    """
    if not isinstance(answer_content, dict):
        raise ValueError(
            f"answerContent must be a JSON object, not {type(answer_content).__name__}"
        )
    content = json.loads(json.dumps(answer_content))
    with backend.lock:
        submitted = submitted_at or settings.now()
        accepted = accepted_at or loop.accepted.get(worker.worker_id) or submitted
        limit = time_limit(backend, loop)
        if submitted - accepted > timedelta(seconds=limit):
            loop.accepted.pop(worker.worker_id, None)
            raise TaskTimeLimitPassed(
                f"the task's time limit ({limit} s) passed before it was submitted; "
                "open the task again and submit within the limit"
            )
        complete_human_loop(
            backend, loop, content, worker, accepted_at=accepted, submitted_at=submitted
        )
        loop.accepted.pop(worker.worker_id, None)
        return loop


# --- answers and output ----------------------------------------------------------------------


def _to_ms(moment: datetime) -> datetime:
    """``moment`` truncated to the millisecond (A2I's timestamps carry milliseconds)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def output_location(loop: HumanLoop) -> tuple[str, str]:
    """(bucket, key) of the loop's ``output.json``: ``<S3OutputPath>/<flow definition>/
    YYYY/MM/DD/hh/mm/ss/<loop>/output.json``, dated by the loop's creation (UTC)."""
    bucket, _, prefix = loop.output_path[len("s3://") :].partition("/")
    parts = [
        prefix.strip("/"),
        loop.flow_definition_name,
        loop.created_at.strftime("%Y/%m/%d/%H/%M/%S"),
        loop.name,
        "output.json",
    ]
    return bucket, "/".join(p for p in parts if p)


def output_document(loop: HumanLoop) -> dict[str, Any]:
    """A2I's output document for a custom task type."""
    return {
        "flowDefinitionArn": loop.flow_definition_arn,
        "humanAnswers": list(loop.answers),
        "humanLoopName": loop.name,
        "inputContent": loop.input_object,
    }


def complete_human_loop(
    backend: A2IRuntimeBackend,
    loop: HumanLoop,
    answer_content: dict[str, Any],
    worker: Worker,
    *,
    accepted_at: datetime | None = None,
    submitted_at: datetime | None = None,
) -> HumanLoop:
    """Record one worker's answer; with ``TaskCount`` answers, complete the loop.

    Completing writes ``output.json`` (see :func:`output_location`, :func:`output_document`)
    to S3 in the loop's account and marks the loop ``Completed``; when the output bucket does
    not exist the loop ends ``Failed`` instead. The auto reviewer and a worker portal both call
    this, so both produce the same document. Raises :class:`HumanLoopClosed` when the loop is
    not InProgress or the worker already answered it.
    """
    with backend.lock:
        loop.refresh()
        if loop.status != "InProgress":
            raise HumanLoopClosed(f"human loop {loop.name} is {loop.status}; it takes no answers")
        if any(a["workerId"] == worker.worker_id for a in loop.answers):
            raise HumanLoopClosed(f"worker {worker.worker_id} already answered {loop.name}")
        # created <= accepted <= submitted, and timeSpentInSeconds is their difference, as in
        # A2I's output.json (helpers/offline/README.md); times are kept to the millisecond.
        submitted = max(_to_ms(submitted_at or settings.now()), loop.created_at)
        accepted = _to_ms(accepted_at or submitted - timedelta(seconds=30))
        accepted = min(max(accepted, loop.created_at), submitted)
        loop.answers.append(
            {
                "acceptanceTime": _timestamp(accepted),
                "answerContent": answer_content,
                "submissionTime": _timestamp(submitted),
                "timeSpentInSeconds": round((submitted - accepted).total_seconds(), 3),
                "workerId": worker.worker_id,
                "workerMetadata": worker.metadata(),
            }
        )
        if len(loop.answers) >= loop.task_count:
            _write_output(backend, loop)
        return loop


def _write_output(backend: A2IRuntimeBackend, loop: HumanLoop) -> None:
    from moto.s3.models import s3_backends

    bucket, key = output_location(loop)
    if faults.take("drop_outputs"):
        loop.output_s3_uri = f"s3://{bucket}/{key}"
        loop.status = "Completed"
        LOG.warning("human loop %s completed WITHOUT output (injected fault)", loop.name)
        return
    s3 = s3_backends[backend.account_id][backend.partition]
    if bucket not in s3.buckets:
        loop.status = "Failed"
        loop.failure_code = "InternalError"
        loop.failure_reason = f"Could not write the output to s3://{bucket}/{key}: no such bucket."
        LOG.warning("human loop %s failed: %s", loop.name, loop.failure_reason)
        return
    body = json.dumps(output_document(loop), indent=None).encode("utf-8")
    s3.put_object(bucket, key, body)
    loop.output_s3_uri = f"s3://{bucket}/{key}"
    loop.status = "Completed"
    LOG.info("human loop %s completed; output at %s", loop.name, loop.output_s3_uri)


def auto_reviewer_worker(backend: A2IRuntimeBackend, index: int) -> Worker:
    """The ``index``-th worker of the offline work team (stable per account and region)."""
    state = sm.state_of(sm.sagemaker_backend(backend.account_id, backend.region_name))
    team = state.workteams[settings.current_settings().workteam_name]
    seed = f"{backend.account_id}:{backend.region_name}:auto-reviewer-{index}"
    return Worker(
        worker_id=hashlib.sha256(seed.encode()).hexdigest()[:16],
        sub=str(uuid.uuid5(uuid.NAMESPACE_URL, seed)),
        issuer=team.issuer,
    )


def auto_review(
    backend: A2IRuntimeBackend, loop: HumanLoop, policy: settings.AutoReviewPolicy
) -> HumanLoop:
    """Answer ``loop`` with ``TaskCount`` answers, one per auto reviewer worker.

    The answer is what the reviewer's page would submit (:mod:`helpers.offline.reviewer`), and
    it goes through the worker portal's submit path (:func:`submit_task`),
    so a loop answered by the auto reviewer and one answered in the portal look the same. The
    fixed policies give every worker the same answer; the ``truth`` policy answers as each
    simulated reviewer, with that reviewer's accuracy, seeded by the loop's name.
    """
    limit = time_limit(backend, loop)
    for index in range(loop.task_count):
        if loop.status != "InProgress":
            break
        content = reviewer.answer_content(loop.input_object, policy, worker=index, seed=loop.name)
        seed = int(hashlib.sha256(f"{loop.arn}:{index}".encode()).hexdigest()[:8], 16)
        spent = timedelta(seconds=min(20 + (seed % 4000) / 100, limit))
        submitted = settings.now()
        submit_task(
            backend,
            loop,
            content,
            auto_reviewer_worker(backend, index),
            accepted_at=submitted - spent,
            submitted_at=submitted,
        )
    LOG.info("auto reviewer (%s) answered human loop %s", policy.value, loop.name)
    return loop


# --- moto plumbing -------------------------------------------------------------------------------


class A2IRuntimeResponse(BaseResponse):
    """Handler for sagemaker-a2i-runtime requests."""

    def __init__(self) -> None:
        super().__init__(service_name=SERVICE)
        self.automated_parameter_parsing = True

    @property
    def backend(self) -> A2IRuntimeBackend:
        return a2i_runtime_backends[self.current_account][self.region]

    def _params(self) -> dict[str, Any]:
        return dict(self.params or {})

    def start_human_loop(self) -> ActionResult:
        loop = self.backend.start_human_loop(self._params())
        return ActionResult({"HumanLoopArn": loop.arn})

    def describe_human_loop(self) -> ActionResult:
        params = self._params()
        validate(SERVICE, "DescribeHumanLoop", params, err.VALIDATION)
        return ActionResult(self.backend.describe_human_loop(params["HumanLoopName"]).describe())

    def list_human_loops(self) -> ActionResult:
        loops, token = self.backend.list_human_loops(self._params())
        out: dict[str, Any] = {"HumanLoopSummaries": [loop.summary() for loop in loops]}
        if token:
            out["NextToken"] = token
        return ActionResult(out)

    def stop_human_loop(self) -> ActionResult:
        params = self._params()
        validate(SERVICE, "StopHumanLoop", params, err.VALIDATION)
        self.backend.stop_human_loop(params["HumanLoopName"])
        return EmptyResult()

    def delete_human_loop(self) -> ActionResult:
        params = self._params()
        validate(SERVICE, "DeleteHumanLoop", params, err.VALIDATION)
        self.backend.delete_human_loop(params["HumanLoopName"])
        return EmptyResult()


_URL_MODULE = types.SimpleNamespace(
    url_bases=[URL_BASE],
    url_paths={"{0}/.*$": A2IRuntimeResponse.dispatch},
)

#: Human loops per account and region (SageMaker's regions).
a2i_runtime_backends: BackendDict[A2IRuntimeBackend] = BackendDict(A2IRuntimeBackend, "sagemaker")


def register() -> None:
    """Make moto know the service, in-process and in server mode (idempotent)."""
    if active_loops not in sm.FLOW_DEFINITION_USERS:
        sm.FLOW_DEFINITION_USERS.append(active_loops)
    module = sys.modules.get(MODULE_NAME)
    if module is None:
        module = types.ModuleType(MODULE_NAME, "sagemaker-a2i-runtime (video moderation kit)")
        setattr(module, f"{BACKEND_NAME}_backends", a2i_runtime_backends)
        sys.modules[MODULE_NAME] = module
        setattr(moto, BACKEND_NAME, module)
    patterns = backend_index.backend_url_patterns
    if not any(name == BACKEND_NAME for name, _ in patterns):
        patterns.append((BACKEND_NAME, URL_PATTERN))
