"""Client of the stand-in's control endpoints (``/_kit/...``), for any process of the kit.

The control endpoints change the stand-in (settings, faults, its clock), so they need the
server's secret (see :mod:`helpers.offline.guard`). A server started by
:func:`~helpers.offline.start_server` gives it in its ``env`` (``VMK_OFFLINE_SECRET``) and its
env file, which is how notebook kernels and ``make lab``'s shell get it::

    from helpers.offline import control
    control.call("POST", "faults", {"fail_jobs": 1})   # endpoint and secret from the environment

This module imports nothing from moto.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from helpers.offline.guard import SECRET_ENV, SECRET_HEADER


class ControlError(RuntimeError):
    """A control request the stand-in refused; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"the stand-in answered {status}: {message}")
        self.status = status


def call(
    method: str,
    route: str,
    body: Any = None,
    *,
    endpoint: str | None = None,
    secret: str | None = None,
    timeout: float = 10,
) -> Any:
    """Send one control request; returns the JSON answer. Raises :class:`ControlError`.

    ``route`` is what follows ``/_kit/`` (``"faults"``, ``"settings"``, ``"advance"``).
    ``endpoint`` and ``secret`` default to ``AWS_ENDPOINT_URL`` and ``VMK_OFFLINE_SECRET``.
    """
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL")
    secret = secret if secret is not None else os.environ.get(SECRET_ENV)
    if not endpoint:
        raise ControlError(0, "no endpoint: set AWS_ENDPOINT_URL or pass endpoint=")
    headers = {SECRET_HEADER: secret} if secret else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    url = endpoint.rstrip("/") + "/_kit/" + route.strip("/")
    request = urllib.request.Request(url, data=data, headers=headers, method=method.upper())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            message = json.loads(raw).get("error") or raw.decode()
        except (ValueError, AttributeError):
            message = raw.decode("utf-8", "replace")
        raise ControlError(error.code, message) from None
