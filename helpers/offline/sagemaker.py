"""The SageMaker side of Amazon A2I for the stand-in.

Adds to moto's ``SageMakerResponse``: Create/Describe/Delete/List HumanTaskUi(s),
Create/Describe/Delete/List FlowDefinition(s), ListWorkteams, DescribeWorkteam and
RenderUiTemplate (:mod:`helpers.offline.render`); and lets
moto's AddTags/ListTags/DeleteTags find these resources. State lives on moto's SageMaker backend
of the account and region, so a moto reset wipes it.

Every account and region has one private work team (``OfflineSettings.workteam_name``), created
the first time anything asks. Flow definitions stay ``Initializing`` for
``OfflineSettings.flow_definition_seconds`` and, once deleted, ``Deleting`` for
``OfflineSettings.flow_definition_delete_seconds``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from helpers.offline import exceptions as err
from helpers.offline import faults, identity, settings
from helpers.offline.exceptions import service_error
from helpers.offline.locks import STATE_LOCK
from helpers.offline.paging import page
from helpers.offline.validation import validate

LOG = logging.getLogger("helpers.offline")

SERVICE = "sagemaker"
#: Upper bounds the model leaves open (AWS documents them; the AWS Terraform provider checks
#: the same ranges).
MAX_TASK_TIME_LIMIT_SECONDS = 28_800
MAX_TASK_AVAILABILITY_SECONDS = 864_000
DEFAULT_MAX_RESULTS = 10
_LOCK = STATE_LOCK


@dataclasses.dataclass
class HumanTaskUi:
    """A worker task template."""

    name: str
    arn: str
    content: str
    created_at: datetime
    tags: list[dict[str, str]]

    def describe(self) -> dict[str, Any]:
        """DescribeHumanTaskUi response."""
        digest = hashlib.sha256(self.content.encode("utf-8")).hexdigest()
        region, account = self.arn.split(":")[3:5]
        return {
            "HumanTaskUiArn": self.arn,
            "HumanTaskUiName": self.name,
            "HumanTaskUiStatus": "Active",
            "CreationTime": self.created_at,
            "UiTemplate": {
                "Url": (
                    f"https://sagemaker-human-task-ui-{region}-{account}.s3.{region}."
                    f"amazonaws.com/{self.name}/template.liquid"
                ),
                "ContentSha256": digest,
            },
        }


@dataclasses.dataclass
class FlowDefinition:
    """A human review workflow."""

    name: str
    arn: str
    created_at: datetime
    active_at: datetime
    request: dict[str, Any]
    tags: list[dict[str, str]]
    gone_at: datetime | None = None
    #: Set by an injected fault: the flow definition ends Failed with this reason.
    failure_reason: str | None = None

    def status(self, at: datetime | None = None) -> str:
        """Initializing, Active (or Failed) or Deleting at the stand-in's current time."""
        if self.gone_at is not None:
            return "Deleting"
        if (at or settings.now()) < self.active_at:
            return "Initializing"
        return "Failed" if self.failure_reason else "Active"

    @property
    def task_count(self) -> int:
        return int(self.request["HumanLoopConfig"]["TaskCount"])

    @property
    def output_path(self) -> str:
        return str(self.request["OutputConfig"]["S3OutputPath"])

    def describe(self) -> dict[str, Any]:
        """DescribeFlowDefinition response."""
        out: dict[str, Any] = {
            "FlowDefinitionArn": self.arn,
            "FlowDefinitionName": self.name,
            "FlowDefinitionStatus": self.status(),
            "CreationTime": self.created_at,
        }
        if out["FlowDefinitionStatus"] == "Failed":
            out["FailureReason"] = self.failure_reason
        for key in (
            "HumanLoopRequestSource",
            "HumanLoopActivationConfig",
            "HumanLoopConfig",
            "OutputConfig",
            "RoleArn",
        ):
            if self.request.get(key) is not None:
                out[key] = self.request[key]
        return out

    def summary(self) -> dict[str, Any]:
        """ListFlowDefinitions entry."""
        return {
            "FlowDefinitionName": self.name,
            "FlowDefinitionArn": self.arn,
            "FlowDefinitionStatus": self.status(),
            "CreationTime": self.created_at,
        }


@dataclasses.dataclass
class Workteam:
    """The private work team of one account and region."""

    name: str
    arn: str
    workforce_arn: str
    user_pool: str
    client_id: str
    created_at: datetime
    default_subdomain: str
    tags: list[dict[str, str]] = dataclasses.field(default_factory=list)

    @property
    def subdomain(self) -> str:
        """``OfflineSettings.workteam_subdomain`` when set, else the random default."""
        return settings.current_settings().workteam_subdomain or self.default_subdomain

    @property
    def issuer(self) -> str:
        """The Cognito issuer of the team's workers (used in A2I output)."""
        region = self.user_pool.split("_", 1)[0]
        return f"https://cognito-idp.{region}.amazonaws.com/{self.user_pool}"

    def describe(self) -> dict[str, Any]:
        """The ``Workteam`` structure."""
        return {
            "WorkteamName": self.name,
            "MemberDefinitions": [
                {
                    "CognitoMemberDefinition": {
                        "UserPool": self.user_pool,
                        "UserGroup": self.name,
                        "ClientId": self.client_id,
                    }
                }
            ],
            "WorkteamArn": self.arn,
            "WorkforceArn": self.workforce_arn,
            "ProductListingIds": [],
            "Description": "Private work team of the video moderation kit (offline stand-in)",
            "SubDomain": self.subdomain,
            "CreateDate": self.created_at,
            "LastUpdatedDate": self.created_at,
        }


@dataclasses.dataclass
class A2IControlState:
    """What the stand-in keeps on one SageMaker backend."""

    human_task_uis: dict[str, HumanTaskUi] = dataclasses.field(default_factory=dict)
    flow_definitions: dict[str, FlowDefinition] = dataclasses.field(default_factory=dict)
    workteams: dict[str, Workteam] = dataclasses.field(default_factory=dict)


def _arn(backend: SageMakerModelBackend, kind: str, name: str) -> str:
    region, account = backend.region_name, backend.account_id
    return f"arn:{backend.partition}:sagemaker:{region}:{account}:{kind}/{name}"


def state_of(backend: SageMakerModelBackend) -> A2IControlState:
    """The A2I state on ``backend``, with the work team of the active settings present."""
    with _LOCK:
        state = backend.__dict__.get("_vmk_a2i")
        if state is None:
            state = A2IControlState()
            backend.__dict__["_vmk_a2i"] = state
        name = settings.current_settings().workteam_name
        if name not in state.workteams:
            state.workteams[name] = _new_workteam(backend, name)
        for fd_name, flow in list(state.flow_definitions.items()):
            if flow.gone_at is not None and settings.now() >= flow.gone_at:
                del state.flow_definitions[fd_name]
                LOG.info("flow definition %s deleted", fd_name)
        return state


def _new_workteam(backend: SageMakerModelBackend, name: str) -> Workteam:
    region = backend.region_name
    token = secrets.token_hex(5)
    return Workteam(
        name=name,
        arn=_arn(backend, "workteam", f"private-crowd/{name}"),
        workforce_arn=_arn(backend, "workforce", "default"),
        user_pool=f"{region}_{secrets.token_hex(5).upper()[:9]}",
        client_id=secrets.token_hex(13),
        created_at=settings.now(),
        default_subdomain=f"{token}.labeling.{region}.sagemaker.aws",
    )


def sagemaker_backend(account_id: str, region: str) -> SageMakerModelBackend:
    """moto's SageMaker backend of an account and region."""
    return sagemaker_backends[account_id][region]


def find_flow_definition(account_id: str, region: str, arn: str) -> FlowDefinition | None:
    """The flow definition with ``arn`` in that account and region (None when there is none)."""
    state = state_of(sagemaker_backend(account_id, region))
    flow = state.flow_definitions.get(arn.rsplit("/", 1)[-1])
    return flow if flow is not None and flow.arn == arn else None


def _not_found(kind: str, arn: str) -> err.OfflineServiceError:
    return service_error(err.RESOURCE_NOT_FOUND, f"{kind} {arn} does not exist.")


# --- human task UIs ----------------------------------------------------------------------------


def create_human_task_ui(backend: SageMakerModelBackend, params: dict[str, Any]) -> HumanTaskUi:
    """CreateHumanTaskUi."""
    validate(SERVICE, "CreateHumanTaskUi", params, err.VALIDATION)
    name = params["HumanTaskUiName"]
    state = state_of(backend)
    with _LOCK:
        if name in state.human_task_uis:
            raise service_error(
                err.RESOURCE_IN_USE,
                f"HumanTaskUi {_arn(backend, 'human-task-ui', name)} already exists.",
            )
        ui = HumanTaskUi(
            name=name,
            arn=_arn(backend, "human-task-ui", name),
            content=params["UiTemplate"]["Content"],
            created_at=settings.now(),
            tags=list(params.get("Tags") or []),
        )
        state.human_task_uis[name] = ui
    return ui


def _human_task_ui(backend: SageMakerModelBackend, name: str) -> HumanTaskUi:
    ui = state_of(backend).human_task_uis.get(name)
    if ui is None:
        raise _not_found("HumanTaskUi", _arn(backend, "human-task-ui", name))
    return ui


def delete_human_task_ui(backend: SageMakerModelBackend, name: str) -> None:
    """DeleteHumanTaskUi (gone at once; flow definitions that use it keep working)."""
    with _LOCK:
        _human_task_ui(backend, name)
        del state_of(backend).human_task_uis[name]


T = TypeVar("T")


def _list(
    items: Iterable[T],
    params: dict[str, Any],
    created: Callable[[T], datetime],
    *,
    default_order: str = "Descending",
) -> tuple[list[T], str | None]:
    after, before = params.get("CreationTimeAfter"), params.get("CreationTimeBefore")
    selected = [
        item
        for item in items
        if (after is None or created(item) >= _aware(after))
        and (before is None or created(item) < _aware(before))
    ]
    order = params.get("SortOrder") or default_order
    selected.sort(key=created, reverse=order == "Descending")
    filters = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
    return page(
        selected,
        max_results=int(params.get("MaxResults") or DEFAULT_MAX_RESULTS),
        next_token=params.get("NextToken"),
        filters=filters,
        error_code=err.VALIDATION,
    )


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=settings.now().tzinfo)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=settings.now().tzinfo)
    from dateutil import parser as date_parser

    parsed: datetime = date_parser.parse(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=settings.now().tzinfo)


# --- flow definitions ----------------------------------------------------------------------------


def create_flow_definition(
    backend: SageMakerModelBackend, params: dict[str, Any]
) -> FlowDefinition:
    """CreateFlowDefinition, with the checks SageMaker makes."""
    validate(SERVICE, "CreateFlowDefinition", params, err.VALIDATION)
    name = params["FlowDefinitionName"]
    config = params.get("HumanLoopConfig")
    if not config:
        raise service_error(err.VALIDATION, "HumanLoopConfig is required for a flow definition.")
    if params.get("HumanLoopActivationConfig") and not params.get("HumanLoopRequestSource"):
        raise service_error(
            err.VALIDATION,
            "HumanLoopActivationConfig is only supported with a HumanLoopRequestSource; custom "
            "task types start every human loop with StartHumanLoop.",
        )
    limit = config.get("TaskTimeLimitInSeconds")
    if limit is not None and limit > MAX_TASK_TIME_LIMIT_SECONDS:
        raise service_error(
            err.VALIDATION,
            f"TaskTimeLimitInSeconds {limit} exceeds the maximum of "
            f"{MAX_TASK_TIME_LIMIT_SECONDS} seconds.",
        )
    lifetime = config.get("TaskAvailabilityLifetimeInSeconds")
    if lifetime is not None and lifetime > MAX_TASK_AVAILABILITY_SECONDS:
        raise service_error(
            err.VALIDATION,
            f"TaskAvailabilityLifetimeInSeconds {lifetime} exceeds the maximum of "
            f"{MAX_TASK_AVAILABILITY_SECONDS} seconds.",
        )
    output_path = params["OutputConfig"]["S3OutputPath"]
    if not output_path.startswith("s3://") or len(output_path) <= len("s3://"):
        raise service_error(
            err.VALIDATION,
            f"S3OutputPath {output_path} must be an s3://bucket[/prefix] URI (the offline "
            "stand-in writes A2I output to S3 URIs only).",
        )
    state = state_of(backend)
    with _LOCK:
        workteams = {team.arn: team for team in state.workteams.values()}
        if config["WorkteamArn"] not in workteams:
            raise service_error(err.VALIDATION, f"Workteam {config['WorkteamArn']} does not exist.")
        ui_arn = config["HumanTaskUiArn"]
        if ui_arn not in {ui.arn for ui in state.human_task_uis.values()}:
            raise service_error(err.VALIDATION, f"HumanTaskUi {ui_arn} does not exist.")
        problem = identity.role_problem(backend.account_id, backend.region_name, params["RoleArn"])
        if problem:
            raise service_error(err.VALIDATION, problem)
        if name in state.flow_definitions:
            raise service_error(
                err.RESOURCE_IN_USE,
                f"Flow definition {_arn(backend, 'flow-definition', name)} already exists.",
            )
        request = {
            key: params[key]
            for key in (
                "HumanLoopRequestSource",
                "HumanLoopActivationConfig",
                "HumanLoopConfig",
                "OutputConfig",
                "RoleArn",
            )
            if params.get(key) is not None
        }
        flow = FlowDefinition(
            name=name,
            arn=_arn(backend, "flow-definition", name),
            created_at=settings.now(),
            active_at=settings.after(settings.current_settings().flow_definition_seconds),
            request=request,
            tags=list(params.get("Tags") or []),
            failure_reason=faults.take("fail_flows") or None,
        )
        state.flow_definitions[name] = flow
    LOG.info("flow definition %s created (Initializing until %s)", name, flow.active_at)
    return flow


def _flow_definition(backend: SageMakerModelBackend, name: str) -> FlowDefinition:
    flow = state_of(backend).flow_definitions.get(name)
    if flow is None:
        raise _not_found("Flow definition", _arn(backend, "flow-definition", name))
    return flow


#: Who uses flow definitions: ``(account, region, flow ARN) -> names of active users``. The A2I
#: runtime adds its loops InProgress or Stopping when it is imported; SageMaker (lower) never
#: imports the runtime.
FLOW_DEFINITION_USERS: list[Callable[[str, str, str], list[str]]] = []


def delete_flow_definition(backend: SageMakerModelBackend, name: str) -> None:
    """DeleteFlowDefinition: refused while loops are InProgress or Stopping, else Deleting."""
    with _LOCK:
        flow = _flow_definition(backend, name)
        if flow.gone_at is not None:
            return
        busy = [
            user
            for users in FLOW_DEFINITION_USERS
            for user in users(backend.account_id, backend.region_name, flow.arn)
        ]
        if busy:
            raise service_error(
                err.RESOURCE_IN_USE,
                f"Flow definition {flow.arn} has {len(busy)} human loop(s) in progress "
                f"({', '.join(sorted(busy)[:5])}); stop them first.",
            )
        flow.gone_at = settings.after(settings.current_settings().flow_definition_delete_seconds)


# --- work teams --------------------------------------------------------------------------------


def list_workteams(backend: SageMakerModelBackend, params: dict[str, Any]) -> dict[str, Any]:
    """ListWorkteams."""
    validate(SERVICE, "ListWorkteams", params, err.VALIDATION)
    teams = list(state_of(backend).workteams.values())
    contains = params.get("NameContains")
    if contains:
        teams = [t for t in teams if contains in t.name]
    if params.get("SortBy") == "Name":
        teams.sort(key=lambda t: t.name)
    else:
        teams.sort(key=lambda t: t.created_at)
    if (params.get("SortOrder") or "Ascending") == "Descending":
        teams.reverse()
    filters = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
    chunk, token = page(
        teams,
        max_results=int(params.get("MaxResults") or DEFAULT_MAX_RESULTS),
        next_token=params.get("NextToken"),
        filters=filters,
        error_code=err.VALIDATION,
    )
    out: dict[str, Any] = {"Workteams": [t.describe() for t in chunk]}
    if token:
        out["NextToken"] = token
    return out


def describe_workteam(backend: SageMakerModelBackend, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeWorkteam."""
    validate(SERVICE, "DescribeWorkteam", params, err.VALIDATION)
    team = state_of(backend).workteams.get(params["WorkteamName"])
    if team is None:
        arn = _arn(backend, "workteam", f"private-crowd/{params['WorkteamName']}")
        raise service_error(err.VALIDATION, f"Workteam {arn} does not exist.")
    return {"Workteam": team.describe()}


# --- moto Response methods ---------------------------------------------------------------------


def _backend_of(response: SageMakerResponse) -> SageMakerModelBackend:
    return sagemaker_backends[response.current_account][response.region]


def _params(response: SageMakerResponse) -> dict[str, Any]:
    return dict(response.params or {})


def _create_human_task_ui(self: SageMakerResponse) -> ActionResult:
    ui = create_human_task_ui(_backend_of(self), _params(self))
    return ActionResult({"HumanTaskUiArn": ui.arn})


def _describe_human_task_ui(self: SageMakerResponse) -> ActionResult:
    params = _params(self)
    validate(SERVICE, "DescribeHumanTaskUi", params, err.VALIDATION)
    return ActionResult(_human_task_ui(_backend_of(self), params["HumanTaskUiName"]).describe())


def _delete_human_task_ui(self: SageMakerResponse) -> ActionResult:
    params = _params(self)
    validate(SERVICE, "DeleteHumanTaskUi", params, err.VALIDATION)
    delete_human_task_ui(_backend_of(self), params["HumanTaskUiName"])
    return EmptyResult()


def _list_human_task_uis(self: SageMakerResponse) -> ActionResult:
    params = _params(self)
    validate(SERVICE, "ListHumanTaskUis", params, err.VALIDATION)
    uis, token = _list(
        state_of(_backend_of(self)).human_task_uis.values(), params, lambda u: u.created_at
    )
    out: dict[str, Any] = {
        "HumanTaskUiSummaries": [
            {"HumanTaskUiName": u.name, "HumanTaskUiArn": u.arn, "CreationTime": u.created_at}
            for u in uis
        ]
    }
    if token:
        out["NextToken"] = token
    return ActionResult(out)


def _create_flow_definition(self: SageMakerResponse) -> ActionResult:
    flow = create_flow_definition(_backend_of(self), _params(self))
    return ActionResult({"FlowDefinitionArn": flow.arn})


def _describe_flow_definition(self: SageMakerResponse) -> ActionResult:
    params = _params(self)
    validate(SERVICE, "DescribeFlowDefinition", params, err.VALIDATION)
    return ActionResult(
        _flow_definition(_backend_of(self), params["FlowDefinitionName"]).describe()
    )


def _delete_flow_definition(self: SageMakerResponse) -> ActionResult:
    params = _params(self)
    validate(SERVICE, "DeleteFlowDefinition", params, err.VALIDATION)
    delete_flow_definition(_backend_of(self), params["FlowDefinitionName"])
    return EmptyResult()


def _list_flow_definitions(self: SageMakerResponse) -> ActionResult:
    params = _params(self)
    validate(SERVICE, "ListFlowDefinitions", params, err.VALIDATION)
    flows, token = _list(
        state_of(_backend_of(self)).flow_definitions.values(), params, lambda f: f.created_at
    )
    out: dict[str, Any] = {"FlowDefinitionSummaries": [f.summary() for f in flows]}
    if token:
        out["NextToken"] = token
    return ActionResult(out)


def _list_workteams(self: SageMakerResponse) -> ActionResult:
    return ActionResult(list_workteams(_backend_of(self), _params(self)))


def _describe_workteam(self: SageMakerResponse) -> ActionResult:
    return ActionResult(describe_workteam(_backend_of(self), _params(self)))


RESPONSE_METHODS: dict[str, Callable[[SageMakerResponse], ActionResult]] = {
    "create_human_task_ui": _create_human_task_ui,
    "describe_human_task_ui": _describe_human_task_ui,
    "delete_human_task_ui": _delete_human_task_ui,
    "list_human_task_uis": _list_human_task_uis,
    "create_flow_definition": _create_flow_definition,
    "describe_flow_definition": _describe_flow_definition,
    "delete_flow_definition": _delete_flow_definition,
    "list_flow_definitions": _list_flow_definitions,
    "list_workteams": _list_workteams,
    "describe_workteam": _describe_workteam,
}

_TAGGABLE = {
    "human-task-ui": lambda state, name: state.human_task_uis.get(name),
    "flow-definition": lambda state, name: state.flow_definitions.get(name),
    "workteam": lambda state, name: state.workteams.get(name.rsplit("/", 1)[-1]),
}
_MARK = "__vmk_offline__"


def _wrap_resource_lookup(original: Callable[..., Any]) -> Callable[..., Any]:
    def _get_resource_from_arn(self: SageMakerModelBackend, arn: str) -> Any:
        resource_part = arn.split(":", 5)[-1]
        kind, _, name = resource_part.partition("/")
        if kind in _TAGGABLE:
            found = _TAGGABLE[kind](state_of(self), name)
            if found is None or getattr(found, "arn", None) != arn:
                raise service_error(err.VALIDATION, f"Could not find {kind} with name {name}")
            return found
        return original(self, arn)

    setattr(_get_resource_from_arn, _MARK, True)
    return _get_resource_from_arn


def register() -> None:
    """Add the operations to moto's SageMakerResponse and the tag lookup (idempotent)."""
    for name, function in RESPONSE_METHODS.items():
        if getattr(SageMakerResponse, name, None) is not function:
            if hasattr(SageMakerResponse, name):
                LOG.debug("replacing moto's SageMakerResponse.%s", name)
            setattr(SageMakerResponse, name, function)
    current = SageMakerModelBackend._get_resource_from_arn
    if not getattr(current, _MARK, False):
        SageMakerModelBackend._get_resource_from_arn = _wrap_resource_lookup(current)  # type: ignore[method-assign]
