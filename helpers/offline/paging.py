"""Opaque, checked NextToken paging for the stand-in's List operations."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from helpers.offline.exceptions import service_error

T = TypeVar("T")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


def _fingerprint(filters: Mapping[str, Any]) -> str:
    text = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> Any:
    """The payload of a token this module issued; ValueError for anything else.

    Strict: only the URL-safe base64 alphabet (``binascii`` would skip other characters), and
    the token must be exactly the one :func:`_encode` gives for its payload, so an edited token
    (a character inserted, changed or removed) is refused.
    """
    if not _TOKEN.fullmatch(token):
        raise ValueError("not a token of this service")
    padded = token + "=" * (-len(token) % 4)
    payload = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True).decode())
    if not isinstance(payload, dict) or _encode(payload) != token:
        raise ValueError("not a token of this service")
    return payload


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
            decoded = _decode(next_token)
            offset = decoded["o"]
            if decoded["f"] != fingerprint or type(offset) is not int or offset < 0:
                raise ValueError("token issued for other parameters")
        except (ValueError, KeyError, TypeError):
            raise service_error(error_code, "Invalid pagination token") from None
    chunk = list(items[offset : offset + max_results])
    following = offset + max_results
    if following >= len(items):
        return chunk, None
    return chunk, _encode({"o": following, "f": fingerprint})
