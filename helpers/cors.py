"""The bucket CORS rule the reviewer's page needs, added beside any rules already there.

A plain ``<video src>`` plays without CORS, but the reviewer's page may read the video with
``fetch`` or draw frames on a canvas, which needs CORS. The kit's rule allows GET and HEAD from
the worker portal's origin (and A2I's template preview origin) only; ``["*"]``, the lab's rule,
is used only when asked for. The rule carries the ID ``video-moderation-kit`` so clean up removes
exactly it and leaves the bucket's other rules alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

RULE_ID = "video-moderation-kit"
#: The origin A2I's console uses to preview worker task templates.
PREVIEW_ORIGIN = "https://mturk-console-template-preview-hooks.s3.amazonaws.com"


def current_rules(s3: Any, bucket: str) -> list[dict[str, Any]]:
    """The bucket's CORS rules (empty when it has none)."""
    try:
        return s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    except ClientError as err:
        if err.response["Error"]["Code"] == "NoSuchCORSConfiguration":
            return []
        raise


def apply_cors(s3: Any, bucket: str, origins: Sequence[str]) -> dict[str, Any]:
    """Add (or replace) the kit's CORS rule for ``origins``; keep every other rule."""
    rule = {
        "ID": RULE_ID,
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedOrigins": list(dict.fromkeys(origins)),
        "AllowedHeaders": ["Range"],
        "ExposeHeaders": ["Content-Range", "Accept-Ranges", "Content-Length"],
        "MaxAgeSeconds": 3000,
    }
    others = [r for r in current_rules(s3, bucket) if r.get("ID") != RULE_ID]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [*others, rule]})
    return rule


def remove_cors(s3: Any, bucket: str, *, dry_run: bool = False) -> bool:
    """Remove the kit's CORS rule; True when there was one."""
    rules = current_rules(s3, bucket)
    others = [r for r in rules if r.get("ID") != RULE_ID]
    if len(others) == len(rules):
        return False
    if not dry_run:
        if others:
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": others})
        else:
            s3.delete_bucket_cors(Bucket=bucket)
    return True


def portal_origins(portal_url: str) -> list[str]:
    """The origins the kit's rule allows: the worker portal's and A2I's template preview.

    An origin is scheme, host and port only: the offline portal's URL also has a path, which an
    origin never carries.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(portal_url)
    return [f"{parts.scheme}://{parts.netloc}", PREVIEW_ORIGIN]


def allow_portal(
    s3: Any, bucket: str, portal_url: str, *, allow_any_origin: bool = False
) -> dict[str, Any]:
    """Add the narrowest rule that lets the worker portal read the video (GET and HEAD).

    ``allow_any_origin=True`` uses the lab's ``*`` instead, only when asked for (for example
    when a corporate proxy rewrites the portal's origin).
    """
    return apply_cors(s3, bucket, ["*"] if allow_any_origin else portal_origins(portal_url))
