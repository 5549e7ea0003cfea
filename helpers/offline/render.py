"""SageMaker RenderUiTemplate for the stand-in: render a worker task template as A2I does.

The template (``UiTemplate.Content``, or the content of ``HumanTaskUiArn``) is rendered with
python-liquid in the environment of :mod:`helpers.preview` (autoescape on, strict undefined,
A2I's ``grant_read_access``, ``to_json`` and ``skip_autoescape`` filters) with
``task.input`` = ``Task.Input`` parsed as JSON. Template errors do not fail the call: they come
back in ``Errors`` (``Code``, ``Message``) with an empty ``RenderedContent``, as the API
describes. ``grant_read_access`` gives the offline worker portal's media URL while a stand-in
server runs, else an unsigned S3 URL.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from moto.core.responses import ActionResult
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from helpers.offline import exceptions as err
from helpers.offline import identity, pages
from helpers.offline import sagemaker as sm
from helpers.offline.exceptions import service_error
from helpers.offline.validation import strict_json, validate

#: Error codes of RenderingError (AWS documents the shape, not the codes; see the README).
SYNTAX_ERROR = "TemplateSyntaxError"
UNDEFINED_VARIABLE = "UndefinedVariable"
UNKNOWN_FILTER = "UnknownFilter"
RENDERING_ERROR = "TemplateRenderingError"
_LOCATION = re.compile(r"(\d+):(\d+)\s*$")


def _message(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    first = lines[0] if lines else type(error).__name__
    for line in lines[1:]:
        if line.strip().startswith("->"):
            found = _LOCATION.search(line)
            if found:
                return f"{first} (line {found.group(1)}, column {found.group(2)})"
    return first


def _code(error: Exception) -> str:
    from liquid import exceptions as liquid_errors

    if isinstance(error, liquid_errors.UndefinedError):
        return UNDEFINED_VARIABLE
    if isinstance(error, liquid_errors.UnknownFilterError):
        return UNKNOWN_FILTER
    if isinstance(error, liquid_errors.LiquidSyntaxError):
        return SYNTAX_ERROR
    return RENDERING_ERROR


def _grant(account_id: str, region: str) -> Any:
    portal_grant = pages.grant_read_access(account_id, absolute=True)

    def grant(uri: Any) -> str:
        text = str(uri)
        if not text.startswith("s3://") or pages.base_url():
            return portal_grant(uri)
        bucket, _, key = text[len("s3://") :].partition("/")
        return f"https://{bucket}.s3.{region}.amazonaws.com/{quote(key)}"

    return grant


def render_ui_template(backend: SageMakerModelBackend, params: dict[str, Any]) -> dict[str, Any]:
    """RenderUiTemplate: ``{"RenderedContent": str, "Errors": [...]}``."""
    validate(sm.SERVICE, "RenderUiTemplate", params, err.VALIDATION)
    content = (params.get("UiTemplate") or {}).get("Content")
    ui_arn = params.get("HumanTaskUiArn")
    if bool(content) == bool(ui_arn):
        raise service_error(
            err.VALIDATION, "Provide either UiTemplate or HumanTaskUiArn, but not both."
        )
    problem = identity.role_problem(backend.account_id, backend.region_name, params["RoleArn"])
    if problem:
        raise service_error(err.VALIDATION, problem)
    try:
        task_input = strict_json(params["Task"]["Input"])
    except ValueError as error:
        raise service_error(err.VALIDATION, f"Task.Input is not valid JSON: {error}") from None
    if ui_arn:
        ui = sm.state_of(backend).human_task_uis.get(ui_arn.rsplit("/", 1)[-1])
        if ui is None or ui.arn != ui_arn:
            raise service_error(err.RESOURCE_NOT_FOUND, f"HumanTaskUi {ui_arn} does not exist.")
        content = ui.content
    from liquid.exceptions import LiquidError

    try:
        rendered = pages.render_task(
            content, task_input, _grant(backend.account_id, backend.region_name)
        )
    except LiquidError as error:
        failure = {"Code": _code(error), "Message": _message(error)}
    except Exception as error:  # a filter failing on a value, for example
        failure = {"Code": RENDERING_ERROR, "Message": f"{type(error).__name__}: {error}"}
    else:
        return {"RenderedContent": rendered, "Errors": []}
    return {"RenderedContent": "", "Errors": [failure]}


def _render_ui_template(self: SageMakerResponse) -> ActionResult:
    backend = sm.sagemaker_backend(self.current_account, self.region)
    return ActionResult(render_ui_template(backend, dict(self.params or {})))


def register() -> None:
    """Add RenderUiTemplate to moto's SageMakerResponse (idempotent)."""
    if getattr(SageMakerResponse, "render_ui_template", None) is not _render_ui_template:
        SageMakerResponse.render_ui_template = _render_ui_template  # type: ignore[attr-defined]
