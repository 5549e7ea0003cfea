"""S3 bucket names: the stand-in refuses on CreateBucket what S3 refuses.

moto checks only a name's length. S3's rules for general purpose buckets ("Bucket naming rules"
in the Amazon S3 User Guide): 3-63 characters of lowercase letters, digits, dots and hyphens;
a letter or digit first and last; no two adjacent periods; not formatted as an IP address; not
starting with ``xn--``, ``sthree-`` or ``amzn-s3-demo-``; not ending with ``-s3alias``,
``--ol-s3``, ``.mrap``, ``--x-s3`` or ``--table-s3``. S3 answers ``InvalidBucketName`` (400).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from moto.s3.exceptions import InvalidBucketName
from moto.s3.models import S3Backend

_SHAPE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why S3 refuses ``name`` for a new general purpose bucket (None when it is valid)."""
    if not _SHAPE.fullmatch(name):
        return (
            "3-63 lowercase letters, digits, dots and hyphens, beginning and ending with a "
            "letter or digit"
        )
    if ".." in name:
        return "no two adjacent periods"
    if _IP_ADDRESS.fullmatch(name):
        return "not formatted as an IP address"
    for prefix in RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with the reserved prefix {prefix}"
    for suffix in RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with the reserved suffix {suffix}"
    return None


def _checked(create_bucket: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(create_bucket)
    def create_checked_bucket(self: S3Backend, bucket_name: str, *args: Any, **kw: Any) -> Any:
        if bucket_name_problem(bucket_name):
            raise InvalidBucketName()
        return create_bucket(self, bucket_name, *args, **kw)

    create_checked_bucket.__vmk_checked__ = True  # type: ignore[attr-defined]
    return create_checked_bucket


def register() -> None:
    """Make moto's S3 backend check bucket names on CreateBucket (idempotent)."""
    if not getattr(S3Backend.create_bucket, "__vmk_checked__", False):
        S3Backend.create_bucket = _checked(S3Backend.create_bucket)  # type: ignore[method-assign]
