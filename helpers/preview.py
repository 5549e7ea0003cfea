"""Render the reviewer's page locally, the way A2I renders it, with python-liquid.

A2I renders worker task templates with Liquid, autoescape on, and three extra filters:
``grant_read_access`` (S3 URI → short-lived HTTPS URL), ``to_json`` and ``skip_autoescape``.
Rendering locally catches template errors before a reviewer sees a blank page; SageMaker's
RenderUiTemplate is the check on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from liquid import Environment, StrictUndefined
from markupsafe import Markup

from helpers.review import load_template


def liquid_environment(grant_read_access: Callable[[str], str] | None = None) -> Environment:
    """A Liquid environment with A2I's filters, autoescape on and strict undefined variables."""
    env = Environment(autoescape=True, undefined=StrictUndefined)
    env.filters["to_json"] = lambda value: json.dumps(value)
    env.filters["skip_autoescape"] = lambda value: Markup(str(value))
    env.filters["grant_read_access"] = grant_read_access or (lambda uri: uri)
    return env


def presigner(s3: Any, expires: int = 3600) -> Callable[[str], str]:
    """A ``grant_read_access`` filter that presigns ``s3://bucket/key`` URIs with ``s3``."""

    def grant(uri: str) -> str:
        bucket, _, key = str(uri).removeprefix("s3://").partition("/")
        return s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
        )

    return grant


def render(
    task_input: dict[str, Any],
    template: str | None = None,
    grant_read_access: Callable[[str], str] | None = None,
) -> str:
    """The page a reviewer would get for ``task_input`` (the loop's input document)."""
    env = liquid_environment(grant_read_access)
    return env.from_string(template or load_template()).render(task={"input": task_input})
