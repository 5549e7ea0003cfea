"""Provisioning made safe: the request is the notebook's, the idempotence and waiting are here.

The notebook builds the ``create_human_task_ui`` and ``create_flow_definition`` requests as
dicts the attendee reads and edits; :func:`ensure_task_ui` and :func:`ensure_flow_definition`
receive those very keyword arguments and make the call safe to run twice:

- a name carries a hash of the request (:func:`name_for`), so the same request reuses what exists
  and an edited request creates a new resource instead of colliding with the old one;
- a flow definition is awaited until ``Active`` (the lab starts a loop right away and can hit one
  that is still ``Initializing``); ``Failed`` raises with its ``FailureReason``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from helpers import checks
from helpers.errors import ConfigurationError, InputError, ResourceFailed, kit_step
from helpers.names import resource_name
from helpers.progress import Progress
from helpers.waiting import Backoff, wait_until

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
REVIEW_TEMPLATE = TEMPLATES / "reviewer" / "video-review.liquid.html"
MAX_TEMPLATE_CHARS = 128_000
_NOT_FOUND = ("ResourceNotFound", "ResourceNotFoundException", "ValidationException")


def content_hash(*parts: Any) -> str:
    """A short hash of JSON-able parts, used in resource names to make provisioning idempotent."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:8]


def name_for(purpose: str, run_id: str, request: dict[str, Any]) -> str:
    """A run-unique name for a request: ``vmk-<purpose>-<run id>-<hash of the request>``.

    The hash leaves out the name itself and the tags, so the same request always gets the same
    name (reused on a second run of the cell) and an edited one a new name.
    """
    body = {k: v for k, v in request.items() if k not in ("Tags",) and not k.endswith("Name")}
    return resource_name(purpose, run_id, content_hash(body))


# --- work team ---------------------------------------------------------------------------------


@kit_step
def find_workteam(sagemaker: Any, name: str | None = None) -> dict[str, Any]:
    """The private work team to send tasks to, chosen by name (or the only one there is)."""
    teams: list[dict[str, Any]] = []
    for page in sagemaker.get_paginator("list_workteams").paginate():
        teams.extend(page["Workteams"])
    region = sagemaker.meta.region_name
    if name:
        chosen = [t for t in teams if t["WorkteamName"] == name]
        if not chosen:
            known = ", ".join(t["WorkteamName"] for t in teams) or "none"
            raise ConfigurationError(
                f"No work team named {name} in {region} (teams here: {known})",
                "check workteam_name, or create a private team in the SageMaker console under "
                "Ground Truth → Labeling workforces → Private",
            )
        return chosen[0]
    if not teams:
        raise ConfigurationError(
            f"There is no work team in {region}",
            "create a private team in the SageMaker console (Ground Truth → Labeling "
            "workforces → Private), add yourself, then run this cell again",
        )
    if len(teams) > 1:
        names = ", ".join(t["WorkteamName"] for t in teams)
        raise ConfigurationError(
            f"{len(teams)} work teams in {region}: {names}",
            "set workteam_name in the parameters cell to the one to use",
        )
    return teams[0]


def worker_portal_url(sagemaker: Any, workteam: dict[str, Any]) -> str:
    """The worker portal's URL for a work team (where reviewers sign in).

    On AWS, DescribeWorkteam's ``SubDomain`` is a host name,
    ``xxxx.labeling.<region>.sagemaker.aws``, and the portal is ``https://<SubDomain>``.

    A loopback host name (``localhost``, ``*.localhost``, ``127.0.0.1``, ``[::1]``, with or
    without a port) gives ``http://<SubDomain>`` instead. AWS never gives such a SubDomain: it
    names a worker portal on this machine, such as the kit's offline stand-in's
    ``worker-portal.localhost:<port>``, which speaks plain HTTP (``https://`` would fail on the
    TLS handshake). This is a rule about host names, not an offline branch. A SubDomain that
    is already a URL (``scheme://...``) is returned as it is.
    """
    desc = sagemaker.describe_workteam(WorkteamName=workteam["WorkteamName"])["Workteam"]
    sub = desc["SubDomain"].strip()
    if "://" in sub:
        return sub
    return f"{'http' if _is_loopback_host(sub) else 'https'}://{sub}"


def _is_loopback_host(netloc: str) -> bool:
    """Whether ``host[:port]`` names this machine: localhost, *.localhost, a loopback IP."""
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(f"//{netloc}").hostname or "").rstrip(".")
    except ValueError:  # a malformed IPv6 literal
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- human task UI -----------------------------------------------------------------------------


def load_template(path: Path = REVIEW_TEMPLATE) -> str:
    """The reviewer page's Liquid HTML, checked against A2I's size limit."""
    text = Path(path).read_text()
    if len(text) > MAX_TEMPLATE_CHARS:
        raise InputError(
            f"Template {Path(path).name} has {len(text):,} characters",
            f"A2I takes at most {MAX_TEMPLATE_CHARS:,}: shorten it",
        )
    return text


@kit_step
def ensure_task_ui(sagemaker: Any, **request: Any) -> str:
    """``create_human_task_ui(**request)`` unless the same UI exists; return its ARN.

    ``request`` is CreateHumanTaskUi's keyword arguments (``HumanTaskUiName``, ``UiTemplate``,
    ``Tags``). A UI of that name with other content raises (names from :func:`name_for` never
    collide that way).
    """
    name = request["HumanTaskUiName"]
    content = request["UiTemplate"]["Content"]
    if len(content) > MAX_TEMPLATE_CHARS:
        raise InputError(
            f"The review page has {len(content):,} characters",
            f"A2I takes at most {MAX_TEMPLATE_CHARS:,}: shorten it",
        )
    try:
        desc = sagemaker.describe_human_task_ui(HumanTaskUiName=name)
    except ClientError as err:
        if err.response["Error"]["Code"] not in _NOT_FOUND:
            raise
    else:
        digest = hashlib.sha256(content.encode()).hexdigest()
        if desc["UiTemplate"].get("ContentSha256") in (None, digest):
            log.info("reusing human task UI %s", name)
            return desc["HumanTaskUiArn"]
        raise ConfigurationError(
            f"Human task UI {name} exists with other content",
            "name the UI with provision.name_for(...), or run clean up for this run",
        )
    return sagemaker.create_human_task_ui(**request)["HumanTaskUiArn"]


# --- flow definition ---------------------------------------------------------------------------


#: HumanLoopConfig's time limits (seconds), as CreateFlowDefinition takes them.
TIME_LIMITS = {
    "TaskTimeLimitInSeconds": (30, 28_800),
    "TaskAvailabilityLifetimeInSeconds": (1, 864_000),
}


def check_flow_request(request: dict[str, Any]) -> None:
    """Refuse a CreateFlowDefinition request AWS would refuse, naming the fix (nothing sent).

    ``TaskCount`` and the time limits are whole numbers in A2I's ranges, never text
    (``task_count = "2"`` in a parameters cell is refused, not converted).
    """
    config = request.get("HumanLoopConfig") or {}
    checks.number(config.get("TaskCount"), "TaskCount", low=1, high=3, integer=True)
    if not 1 <= len(config.get("TaskTitle", "")) <= 128:
        raise InputError("TaskTitle must have 1-128 characters", "shorten the title")
    if not 1 <= len(config.get("TaskDescription", "")) <= 255:
        raise InputError("TaskDescription must have 1-255 characters", "shorten it")
    for key, (low, high) in TIME_LIMITS.items():
        if config.get(key) is not None:
            checks.number(config[key], key, low=low, high=high, integer=True)
    output = (request.get("OutputConfig") or {}).get("S3OutputPath", "")
    if not output.startswith("s3://"):
        raise InputError(f"Output path {output!r} is not s3://", "use s3://bucket/prefix/")


@kit_step
def ensure_flow_definition(sagemaker: Any, *, timeout: float = 600.0, **request: Any) -> dict:
    """``create_flow_definition(**request)`` unless it exists; wait until it is Active.

    ``request`` is CreateFlowDefinition's keyword arguments, as the notebook shows them.
    Returns DescribeFlowDefinition's answer. Raises :class:`ResourceFailed` with the
    FailureReason when it ends Failed, and a WaitTimeout naming the role to check.
    """
    check_flow_request(request)
    name = request["FlowDefinitionName"]
    try:
        sagemaker.describe_flow_definition(FlowDefinitionName=name)
        log.info("reusing flow definition %s", name)
    except ClientError as err:
        if err.response["Error"]["Code"] not in _NOT_FOUND:
            raise
        sagemaker.create_flow_definition(**request)
    role = request["RoleArn"]

    def done(desc: dict[str, Any]) -> bool:
        status = desc["FlowDefinitionStatus"]
        if status == "Failed":
            raise ResourceFailed(
                f"Flow definition {name} failed: {desc.get('FailureReason', 'no reason given')}",
                f"check that role {role} trusts sagemaker.amazonaws.com and may read and "
                "write the bucket; then run clean up and this cell again",
            )
        return status == "Active"

    return wait_until(
        lambda: sagemaker.describe_flow_definition(FlowDefinitionName=name),
        done,
        what=f"Flow definition {name} becoming Active",
        timeout=timeout,
        advice=f"check that role {role} trusts sagemaker.amazonaws.com",
        backoff=Backoff(first=1.0, cap=10.0),
        on_poll=Progress(f"Flow definition {name}", timeout, lambda d: d["FlowDefinitionStatus"]),
    )


@kit_step
def ensure(create: Any, **request: Any) -> dict[str, Any]:
    """Make a SageMaker ``create_…`` call the notebook shows idempotent (and awaited).

    ``create`` is the client's bound method, e.g. ``sagemaker.create_flow_definition``, and
    ``request`` its keyword arguments. Returns the Describe answer of the resource:

    - ``create_human_task_ui``: reused when the same UI exists (:func:`ensure_task_ui`);
    - ``create_flow_definition``: reused when it exists, and awaited until ``Active``
      (:func:`ensure_flow_definition`).
    """
    client, operation = getattr(create, "__self__", None), getattr(create, "__name__", "")
    if operation == "create_human_task_ui":
        ensure_task_ui(client, **request)
        return client.describe_human_task_ui(HumanTaskUiName=request["HumanTaskUiName"])
    if operation == "create_flow_definition":
        return ensure_flow_definition(client, **request)
    raise InputError(
        f"provision.ensure does not know {operation or create!r}",
        "pass sagemaker.create_human_task_ui or sagemaker.create_flow_definition",
    )
