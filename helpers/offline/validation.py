"""Request validation driven by botocore's service models.

botocore checks only required members, types and minimums on the client side; AWS's front end
also enforces maximum lengths, patterns, enums and value ranges, and answers with a message such
as ``1 validation error detected: Value '150.0' at 'minConfidence' failed to satisfy constraint:
Member must have value less than or equal to 100``. This module applies every constraint the
installed botocore model declares for an operation's input, so the stand-in's limits are exactly
the model's and follow it when botocore is upgraded.

Model patterns are Java regular expressions matched against the whole value. The Unicode classes
``\\p{L}``, ``\\p{N}`` and ``\\p{Z}`` are translated; a pattern using any other ``\\p{...}``
class is not checked (lengths still are).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from helpers.offline.exceptions import service_error

LOG = logging.getLogger("helpers.offline")

#: Longest value echoed in a message (AWS leaves long values out, as in "Value at 'x' ...").
_ECHO_MAX = 256

_P_CLASSES = {
    r"\p{L}": r"\w",
    r"\p{N}": r"\w",
    r"\p{Z}": "\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
}


@functools.lru_cache(maxsize=16)
def service_model(service: str) -> ServiceModel:
    """botocore's model of ``service`` (cached): moto's copy when it has one.

    moto parses the same botocore model for its own request parsing; sharing it halves the
    first request's cost (SageMaker's model is 400 kB of gzipped JSON).
    """
    try:
        from moto.core.utils import get_service_model
    except ImportError:  # moved in a later moto: parse our own copy
        return botocore.session.get_session().get_service_model(service)
    return get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    """botocore's model of one operation."""
    return service_model(service).operation_model(operation)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    translated = pattern
    for java, python in _P_CLASSES.items():
        translated = translated.replace(java, python)
    if r"\p{" in translated:
        LOG.debug("not checking model pattern %s (Unicode class not translated)", pattern)
        return None
    try:
        return re.compile(translated)
    except re.error:
        LOG.debug("not checking model pattern %s (not a Python regular expression)", pattern)
        return None


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _echo(value: Any, shape: Shape) -> str:
    if isinstance(value, bool):
        text = str(value).lower()
    elif shape.type_name in ("float", "double") and isinstance(value, (int, float)):
        text = repr(float(value))
    elif isinstance(value, list):
        text = "[" + ", ".join(str(v) for v in value) + "]"
    else:
        text = str(value)
    return "Value at" if len(text) > _ECHO_MAX else f"Value '{text}' at"


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    prefix = f"{_echo(value, shape)} '{path}' failed to satisfy constraint: Member must"
    kind = shape.type_name
    if kind == "string" and isinstance(value, str):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"{prefix} have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{prefix} have length less than or equal to {meta['max']}")
        if shape.enum and value not in shape.enum:
            errors.append(f"{prefix} satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = meta.get("pattern")
        if pattern:
            compiled = _compiled(pattern)
            if compiled is not None and not compiled.fullmatch(value):
                errors.append(f"{prefix} satisfy regular expression pattern: {pattern}")
    elif kind in ("integer", "long", "float", "double") and isinstance(value, (int, float)):
        if "min" in meta and value < meta["min"]:
            errors.append(f"{prefix} have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            errors.append(f"{prefix} have value less than or equal to {meta['max']}")
    elif kind == "list" and isinstance(value, list):
        if "min" in meta and len(value) < meta["min"]:
            errors.append(f"{prefix} have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{prefix} have length less than or equal to {meta['max']}")
        for index, item in enumerate(value, start=1):
            _check(shape.member, item, f"{path}.{index}.member", errors)
    elif kind == "map" and isinstance(value, Mapping):
        for key, item in value.items():
            _check(shape.value, item, f"{path}.{key}", errors)
    elif kind == "structure" and isinstance(value, Mapping):
        _check_structure(shape, value, path, errors)


def _check_structure(shape: Shape, value: Mapping[str, Any], path: str, errors: list[str]) -> None:
    required = set(shape.required_members)
    for name, member in shape.members.items():
        member_path = f"{path}.{_lower_camel(name)}" if path else _lower_camel(name)
        item = value.get(name)
        if item is None:
            if name in required:
                errors.append(
                    f"Value null at '{member_path}' failed to satisfy constraint: "
                    "Member must not be null"
                )
            continue
        _check(member, item, member_path, errors)


def constraint_errors(service: str, operation: str, params: Mapping[str, Any]) -> list[str]:
    """Every model constraint ``params`` violates, in AWS's wording (empty when valid)."""
    shape = operation_model(service, operation).input_shape
    errors: list[str] = []
    if shape is not None:
        _check_structure(shape, params, "", errors)
    return errors


def validate(service: str, operation: str, params: Mapping[str, Any], code: str) -> None:
    """Raise the service error ``code`` when ``params`` break a constraint of the model."""
    errors = constraint_errors(service, operation, params)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise service_error(code, f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
