"""Faults the stand-in can inject at runtime, to show the kit keeps working (or fails well).

Each fault applies to the next N occurrences of what it names, then turns itself off:

==================  =====================================================================
``throttle``        ``{"Operation": N}``: the next N calls of that operation (``"*"``: any
                    operation of Rekognition, SageMaker, A2I, SNS, SQS, STS, IAM) answer
                    ``ThrottlingException``; botocore retries these.
``fail_jobs``       the next N moderation jobs end ``FAILED`` with ``job_message``.
``fail_flows``      the next N flow definitions end ``Failed`` with ``flow_reason``.
``loops``           ``{"outcome": "Failed" | "Expired" | "Stopped", "count": N}``: the next
                    N human loops end that way instead of being answered.
``drop_outputs``    the next N completed loops have no ``output.json`` in S3.
``deny_uploads``    the next N S3 uploads (PutObject, CreateMultipartUpload) answer
                    ``AccessDenied``.
==================  =====================================================================

Python: :func:`inject`, :func:`clear`, :func:`active`. HTTP (so notebook kernels see them):
``POST /_kit/faults`` with the same JSON, ``GET /_kit/faults``, ``DELETE /_kit/faults``, each
with the server's secret (``helpers.offline.control.call("POST", "faults", {...})`` sends it).
A request is armed whole or not at all.
Every fault that fires is counted in :func:`fired` and logged.
"""

from __future__ import annotations

import copy
import functools
import logging
import math
import threading
import warnings
from typing import Any

LOG = logging.getLogger("helpers.offline")
_LOCK = threading.Lock()
LOOP_OUTCOMES = ("Failed", "Expired", "Stopped")
_EMPTY: dict[str, Any] = {
    "throttle": {},
    "fail_jobs": 0,
    "job_message": "Unsupported codec/format.",
    "fail_flows": 0,
    "flow_reason": "ClientError: Could not assume the role: access denied.",
    "loops": {"outcome": None, "count": 0},
    "drop_outputs": 0,
    "deny_uploads": 0,
}
_state: dict[str, Any] = copy.deepcopy(_EMPTY)
_fired: dict[str, int] = {}


def inject(**faults: Any) -> dict[str, Any]:
    """Add faults (see the module doc); returns the active faults.

    All or nothing: every value is checked before any is armed, and ValueError names the first
    that is unknown, malformed, negative or not finite (nothing is armed then).
    """
    checked = {key: _checked(key, value) for key, value in faults.items()}
    with _LOCK:
        for key, value in checked.items():
            if key == "throttle":
                _state["throttle"].update(value)
            else:
                _state[key] = value
        LOG.info("faults now: %s", _state)
        return copy.deepcopy(_state)


def _count(name: str, value: Any) -> int:
    """A count of occurrences: a whole number >= 0 (``2`` or ``2.0``; not ``True``, NaN, -1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    return int(value)


def _checked(key: str, value: Any) -> Any:
    """The value to arm for fault ``key``; raises ValueError when it is not valid."""
    if key not in _EMPTY:
        raise ValueError(f"unknown fault {key!r}; known: {', '.join(_EMPTY)}")
    if key == "throttle":
        if not isinstance(value, dict):
            raise ValueError("throttle takes {operation: count}")
        for operation in value:
            if not isinstance(operation, str) or not operation:
                raise ValueError(f"throttle's operation names are strings, not {operation!r}")
        return {op: _count(f"throttle[{op!r}]", n) for op, n in value.items()}
    if key == "loops":
        if not isinstance(value, dict):
            raise ValueError('loops takes {"outcome": ..., "count": N}')
        outcome = value.get("outcome")
        if outcome not in LOOP_OUTCOMES:
            raise ValueError(f"loops outcome must be one of {LOOP_OUTCOMES}")
        unknown = sorted(set(value) - {"outcome", "count"})
        if unknown:
            raise ValueError(f"loops takes outcome and count, not {unknown}")
        return {"outcome": outcome, "count": _count("loops count", value.get("count", 1))}
    if key in ("job_message", "flow_reason"):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{key} must be a non-empty string, not {value!r}")
        return value
    return _count(key, value)


def clear() -> None:
    """Turn every fault off and forget the counts."""
    with _LOCK:
        _state.clear()
        _state.update(copy.deepcopy(_EMPTY))
        _fired.clear()


def active() -> dict[str, Any]:
    """The faults still armed."""
    with _LOCK:
        return copy.deepcopy(_state)


def fired() -> dict[str, int]:
    """How many times each kind of fault fired since the last :func:`clear`."""
    with _LOCK:
        return dict(_fired)


def take(kind: str, operation: str | None = None) -> Any:
    """Consume one occurrence of a fault; returns its detail (truthy) or None when not armed."""
    with _LOCK:
        if kind == "throttle":
            for key in (operation, "*"):
                if key and _state["throttle"].get(key, 0) > 0:
                    _state["throttle"][key] -= 1
                    return _fire("throttle", f"{operation} throttled")
            return None
        if kind == "loops":
            if _state["loops"]["count"] > 0:
                _state["loops"]["count"] -= 1
                return _fire("loops", _state["loops"]["outcome"])
            return None
        if _state[kind] > 0:
            _state[kind] -= 1
            detail = {"fail_jobs": "job_message", "fail_flows": "flow_reason"}.get(kind)
            return _fire(kind, _state[detail] if detail else True)
        return None


def _fire(kind: str, detail: Any) -> Any:
    _fired[kind] = _fired.get(kind, 0) + 1
    LOG.warning("fault injected: %s (%s)", kind, detail)
    return detail


# --- hooks into moto ---------------------------------------------------------------------------


def register() -> None:
    """Wrap moto's action dispatch (throttling) and S3 uploads (access denied). Idempotent."""
    from moto.core.responses import ActionResult, BaseResponse
    from moto.s3.responses import S3Response

    if getattr(BaseResponse.call_action, "_vmk_faults", False):
        return
    call_action = BaseResponse.call_action

    @functools.wraps(call_action)
    def throttled_call_action(self: Any) -> Any:
        try:
            action = self._get_action()
        except Exception:  # let moto report what it cannot route
            action = None
        if action and take("throttle", action):
            from helpers.offline.exceptions import service_error

            error = service_error("ThrottlingException", "Rate exceeded")
            with warnings.catch_warnings():
                # some models (SageMaker's) list no ThrottlingException shape; AWS sends it anyway
                warnings.simplefilter("ignore", UserWarning)
                status, headers, body = self.serialized(ActionResult(error))
            return status, headers, body
        return call_action(self)

    throttled_call_action._vmk_faults = True  # type: ignore[attr-defined]
    BaseResponse.call_action = throttled_call_action  # type: ignore[method-assign]

    put = S3Response._key_response_put

    def denied_put(self: Any, query: dict[str, Any], key_name: str) -> Any:
        first_part = not (query.get("uploadId") and query.get("partNumber"))
        if first_part and take("deny_uploads"):
            return 403, {"Content-Type": "application/xml"}, _ACCESS_DENIED
        return put(self, query, key_name)

    S3Response._key_response_put = denied_put  # type: ignore[method-assign]

    post = S3Response._key_response_post

    def denied_post(
        self: Any, request: Any, body: bytes, bucket_name: str, query: dict[str, Any], key: str
    ) -> Any:
        if "uploads" in query and take("deny_uploads"):
            return 403, {"Content-Type": "application/xml"}, _ACCESS_DENIED
        return post(self, request, body, bucket_name, query, key)

    S3Response._key_response_post = denied_post  # type: ignore[method-assign]


_ACCESS_DENIED = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
    "<Message>Access Denied</Message></Error>"
)
