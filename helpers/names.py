"""Resource names: unique per run, tagged, and checked against the service's patterns."""

from __future__ import annotations

import re
import secrets
import time

from helpers.errors import InputError

#: Every resource the kit creates carries this tag key (value: the run id).
KIT_TAG_KEY = "video-moderation-kit"
#: Prefix of every name the kit makes, so teardown can also find untagged resources.
NAME_PREFIX = "vmk"

# SageMaker human task UIs, flow definitions and A2I human loops: 1-63 chars, lowercase.
A2I_NAME_PATTERN = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")
A2I_NAME_MAX = 63
RUN_ID_PATTERN = re.compile(r"^[a-z0-9]{4,16}$")


def new_run_id() -> str:
    """A short lowercase id for one run of the lab: a time part and a random part."""
    return f"{int(time.time()) % 10**6:06d}{secrets.token_hex(2)}"


def check_a2i_name(name: str, kind: str = "name") -> str:
    """Return ``name`` if A2I accepts it as a human task UI, flow definition or loop name.

    Raises :class:`InputError` naming the fix otherwise (AWS would answer ValidationException;
    botocore does not check patterns or maximum lengths on the client side).
    """
    if not 1 <= len(name) <= A2I_NAME_MAX:
        raise InputError(
            f"{kind} `{name}` is {len(name)} characters long",
            f"use 1 to {A2I_NAME_MAX} characters",
        )
    if not A2I_NAME_PATTERN.match(name):
        raise InputError(
            f"{kind} `{name}` does not match {A2I_NAME_PATTERN.pattern}",
            "use lowercase letters, digits and single or repeated hyphens between them",
        )
    return name


def resource_name(purpose: str, run_id: str, suffix: str = "") -> str:
    """A run-unique A2I resource name, e.g. ``vmk-flow-8231c0ffee``.

    ``purpose`` is a short word (``ui``, ``flow``, ``loop``); ``suffix`` tells apart several
    resources of one purpose in one run.
    """
    parts = [NAME_PREFIX, purpose, run_id] + ([suffix] if suffix else [])
    return check_a2i_name("-".join(parts).lower(), f"{purpose} name")


def kit_tags(run_id: str) -> list[dict[str, str]]:
    """The tags every kit resource carries, in the ``[{Key, Value}]`` form SageMaker takes."""
    return [{"Key": KIT_TAG_KEY, "Value": run_id}]
