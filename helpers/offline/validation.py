"""Request validation driven by botocore's service models.

botocore checks only required members, types and minimums on the client side; AWS's front end
also enforces maximum lengths, patterns, enums and value ranges, and answers with a message such
as ``1 validation error detected: Value '150.0' at 'minConfidence' failed to satisfy constraint:
Member must have value less than or equal to 100``. This module applies every constraint the
installed botocore model declares for an operation's input, so the stand-in's limits are exactly
the model's and follow it when botocore is upgraded.

Model patterns are Java regular expressions matched against the whole value, and are translated
to Python's ``re`` with Java's meaning: ``.`` does not match a line terminator (``\\n``, ``\\r``,
``\\u0085``, ``\\u2028``, ``\\u2029``); ``\\d``, ``\\w``, ``\\s`` and their negations are ASCII
only. The Unicode classes ``\\p{L}``, ``\\p{N}`` and ``\\p{Z}`` are translated; a pattern using any
other ``\\p{...}`` class is not checked (lengths still are).

Where AWS was seen to accept what a model's pattern refuses, :data:`OBSERVED_PATTERNS` gives the
pattern the stand-in applies instead (see helpers/offline/README.md).
"""

from __future__ import annotations

import functools
import json
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

#: Java's line terminators: what ``.`` does not match.
_LINE_TERMINATORS = "\\n\\r\\x85\\u2028\\u2029"
_Z_CHARS = "\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_ASCII_SPACE = " \\t\\n\\x0b\\f\\r"
#: Java escapes → (outside a character class, inside one). None inside: not translatable there.
_ESCAPES: dict[str, tuple[str, str | None]] = {
    "d": ("[0-9]", "0-9"),
    "D": ("[^0-9]", None),
    "w": ("[a-zA-Z0-9_]", "a-zA-Z0-9_"),
    "W": ("[^a-zA-Z0-9_]", None),
    "s": (f"[{_ASCII_SPACE}]", _ASCII_SPACE),
    "S": (f"[^{_ASCII_SPACE}]", None),
    "p{L}": ("[^\\W\\d_]", "\\w"),
    "p{N}": ("\\d", "\\w"),
    "p{Z}": (f"[{_Z_CHARS}]", _Z_CHARS),
}

#: (shape name, model pattern) → the pattern AWS was seen to apply. Keyed by the model's pattern
#: too, so that a botocore release that changes the pattern ends the override.
OBSERVED_PATTERNS: dict[tuple[str, str], str] = {
    # Capital letters in human loop names: AWS's "Amazon A2I and Amazon Fraud Detector" sample
    # (aws-samples/amazon-a2i-sample-jupyter-notebooks, saved output of Feb 2021) started,
    # listed, completed and read the output of `Fraud-detector-1613589638354` on AWS.
    ("HumanLoopName", "^[a-z0-9](-*[a-z0-9])*$"): "^[a-zA-Z0-9](-*[a-zA-Z0-9])*$",
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


def java_to_python(pattern: str) -> str | None:
    """``pattern`` (a Java regular expression) as a Python one with the same meaning.

    None when the pattern uses a construct that is not translated (an unknown ``\\p{...}``
    class, or a negated class escape inside brackets).
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            key = nxt
            if nxt in "pP":
                end = pattern.find("}", i)
                if nxt == "P" or end < 0:
                    return None
                key = pattern[i + 1 : end + 1]
            if key in _ESCAPES:
                outside, inside = _ESCAPES[key]
                if in_class and inside is None:
                    return None
                out.append(inside if in_class else outside)
                i += 1 + len(key)
                continue
            if nxt in "pP":
                return None
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]" and not (out and out[-1] in ("[", "[^")):
                in_class = False
            out.append(char)
        elif char == "[":
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
                continue
            out.append("[")
        elif char == ".":
            out.append(f"[^{_LINE_TERMINATORS}]")
        else:
            out.append(char)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    translated = java_to_python(pattern)
    if translated is None:
        LOG.debug("not checking model pattern %s (construct not translated)", pattern)
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
        pattern = OBSERVED_PATTERNS.get((shape.name, pattern), pattern) if pattern else None
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


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (RFC 8259 has no NaN or Infinity)")


def strict_json(text: str) -> Any:
    """``text`` parsed as RFC 8259 JSON: Python's extensions ``NaN``, ``Infinity`` and
    ``-Infinity`` are refused (ValueError): RFC 8259 has no such values, and Java's JSON
    parsers (AWS's services run on Java) refuse them by default."""
    return json.loads(text, parse_constant=_refuse_constant)
