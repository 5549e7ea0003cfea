"""Opaque, checked NextToken paging for the stand-in's List operations."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from helpers.offline.exceptions import service_error

T = TypeVar("T")


def _fingerprint(filters: Mapping[str, Any]) -> str:
    text = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def page(
    items: Sequence[T],
    *,
    max_results: int,
    next_token: str | None,
    filters: Mapping[str, Any],
    error_code: str,
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token of the next page (None on the last page).

    A token only works with the same ``filters`` it was issued for; anything else raises
    ``error_code`` ("Invalid pagination token").
    """
    offset = 0
    fingerprint = _fingerprint(filters)
    if next_token:
        try:
            padded = next_token + "=" * (-len(next_token) % 4)
            decoded = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            offset = int(decoded["o"])
            if decoded["f"] != fingerprint or offset < 0:
                raise ValueError("token issued for other parameters")
        except (ValueError, KeyError, TypeError):
            raise service_error(error_code, "Invalid pagination token") from None
    chunk = list(items[offset : offset + max_results])
    following = offset + max_results
    if following >= len(items):
        return chunk, None
    raw = json.dumps({"o": following, "f": fingerprint}, separators=(",", ":")).encode()
    return chunk, base64.urlsafe_b64encode(raw).decode().rstrip("=")
