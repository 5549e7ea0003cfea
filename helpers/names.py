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


def check_run_id(run_id: object) -> str:
    """Return ``run_id`` if the kit can name resources with it (4-16 lowercase letters/digits)."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise InputError(
            f"Run id {run_id!r} cannot go into resource names",
            "use 4 to 16 lowercase letters and digits, or leave it out for a new one",
        )
    return run_id


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


# S3's rules for general purpose bucket names (Amazon S3 User Guide, "Bucket naming rules").
_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: object) -> str | None:
    """Why S3 would refuse ``name`` as a general purpose bucket name, or None when it would not."""
    if not isinstance(name, str):
        return f"it is a {type(name).__name__}, not text"
    if name != name.strip():
        return "it has spaces at its start or end"
    if not 3 <= len(name) <= 63:
        return f"it has {len(name)} characters; S3 takes 3 to 63"
    if not _BUCKET_CHARS.match(name):
        if name != name.lower():
            return "it has upper-case letters; S3 takes lowercase letters only"
        return (
            "it may only hold lowercase letters, digits, '.' and '-', and must begin and end "
            "with a letter or digit"
        )
    if ".." in name:
        return "it has two periods in a row"
    if _IP_ADDRESS.match(name):
        return "it is written like an IP address"
    for prefix in BUCKET_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"it starts with `{prefix}`, which S3 reserves"
    for suffix in BUCKET_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"it ends with `{suffix}`, which S3 reserves"
    return None


def check_bucket_name(name: str) -> str:
    """Return ``name`` if S3 accepts it as a bucket name; raise :class:`InputError` otherwise."""
    problem = bucket_name_problem(name)
    if problem:
        raise InputError(
            f"`{name}` is not a name S3 accepts for a bucket: {problem}",
            "use 3-63 lowercase letters, digits and hyphens (e.g. my-team-moderation-2024), or "
            "leave `bucket` empty to use SageMaker's default bucket",
        )
    return name


# AWS region names: us-east-1, eu-central-2, ap-southeast-4, us-gov-west-1, cn-north-1, ...
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def check_region(region: object) -> str:
    """Return ``region`` if it is written as an AWS region name; raise :class:`InputError`."""
    if not isinstance(region, str):
        raise InputError(
            f"The region is {region!r} ({type(region).__name__}), not a region name",
            "write the region as text, e.g. region = 'us-east-1'",
        )
    if region != region.strip():
        raise InputError(
            f"The region {region!r} has spaces at its start or end",
            f"write region = {region.strip()!r} (check AWS_DEFAULT_REGION and ~/.aws/config too)",
        )
    if not _REGION.match(region):
        hint = f" — did you mean {region.lower()!r}?" if _REGION.match(region.lower()) else ""
        raise InputError(
            f"{region!r} is not an AWS region name{hint}",
            "write a region such as 'us-east-1' or 'eu-west-1' (where Rekognition and A2I run)",
        )
    return region
