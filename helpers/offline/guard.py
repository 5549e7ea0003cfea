"""Checks that keep the kit's local web servers safe to have open in a browser.

The stand-in (:mod:`helpers.offline.server`) and the reviewer-page preview
(:mod:`helpers.preview`) are web servers on the user's machine that the user's browser visits.
Any other site open in that browser can send them requests (form posts, ``fetch`` in no-cors
mode, ``<img>`` tags) and, by DNS rebinding, can even read their answers. This module holds the
checks both servers apply before they act on a request. It imports nothing from moto.

* :func:`host_problem`: the ``Host`` header must name a loopback host (``127.0.0.1``,
  ``localhost``, ``*.localhost``, ``[::1]``) or the address the server was explicitly bound
  to; a rebound DNS name is refused.
* :func:`cross_site_problem`: a request a browser sends from another site (``Origin`` not the
  server's own, ``Sec-Fetch-Site`` other than ``same-origin``/``none``) is refused.
* :func:`secret_matches`: the control endpoints also need the per-server secret in the
  :data:`SECRET_HEADER` header (a custom header, which no other site can make a browser send).
* :func:`parse_json`: strict JSON (no NaN or Infinity), at most :data:`MAX_JSON_DEPTH` deep.
* :func:`page_headers`, :func:`media_headers`: Content-Security-Policy and friends.

Every refusal is counted in :data:`REFUSED` (by kind), so a test run can report them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import threading
from collections import Counter
from typing import Any

#: Header that carries the per-server secret of the control endpoints.
SECRET_HEADER = "X-Kit-Secret"
#: Environment variable that carries the secret to the kit's own processes (notebook kernels).
SECRET_ENV = "VMK_OFFLINE_SECRET"
#: Largest answer a worker may submit (bytes).
MAX_ANSWER_BYTES = 8 * 1024 * 1024
#: Largest body of a control request or any other kit endpoint (bytes).
MAX_CONTROL_BYTES = 1024 * 1024
#: Deepest JSON nesting the kit's endpoints accept (a review answer is 4-5 levels deep).
MAX_JSON_DEPTH = 64
#: Values of Sec-Fetch-Site a browser sends for requests the server may act on.
_SAME_SITE_VALUES = ("same-origin", "none")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

_COUNT_LOCK = threading.Lock()
#: Requests refused since the process started, by kind ("cross-site", "host", "secret", ...).
REFUSED: Counter[str] = Counter()


def refused(kind: str) -> None:
    """Count one refused request of ``kind``."""
    with _COUNT_LOCK:
        REFUSED[kind] += 1


def new_secret() -> str:
    """A fresh per-server secret (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def secret_matches(expected: str | None, given: str | None) -> bool:
    """Whether ``given`` is the server's secret (constant-time comparison)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


# --- Host and origin ---------------------------------------------------------------------------


def split_host(value: str) -> tuple[str, str | None]:
    """``Host`` header value → (host name in lower case, port or None)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return value, None
        host, rest = value[: end + 1], value[end + 1 :]
        return host, rest[1:] if rest.startswith(":") else None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        return value, None
    return host, port


def is_loopback_name(host: str) -> bool:
    """``127.0.0.0/8``, ``[::1]``, ``localhost`` and ``*.localhost`` (RFC 6761)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_problem(host_header: str | None, bound_host: str | None = None) -> str | None:
    """Why the ``Host`` header is refused (DNS rebinding), or None when it names this machine.

    ``bound_host`` is the address the server listens on; a specific non-loopback address
    given on purpose (``--host 192.168.1.5``) is accepted too. A wildcard (``0.0.0.0``) is not:
    a name that resolves to this machine could be anyone's.
    """
    if not host_header:
        return "the request has no Host header"
    host, _ = split_host(host_header)
    if is_loopback_name(host):
        return None
    specific = bound_host and bound_host not in ("0.0.0.0", "::", "")
    if specific and host.strip("[]") == str(bound_host).lower().strip("[]"):
        return None
    return (
        f"Host {host_header!r} is not a loopback name; the kit's servers answer only "
        "127.0.0.1, localhost, *.localhost or [::1] (a rebound DNS name is refused)"
    )


def cross_site_problem(
    headers: Any, host_header: str | None, *, unsafe_only: bool, method: str
) -> str | None:
    """Why a request looks sent by another site, or None.

    A browser names the page that made a request: ``Origin`` (on every cross-origin request
    and every POST) and ``Sec-Fetch-Site``. Requests without them come from programs (boto3,
    urllib), which a web page cannot be. With ``unsafe_only``, GET and HEAD pass (links from
    other sites to a page keep working).
    """
    if unsafe_only and method.upper() not in UNSAFE_METHODS:
        return None
    site = (headers.get("Sec-Fetch-Site") or "").strip().lower()
    if site and site not in _SAME_SITE_VALUES:
        return f"a {site} request (Sec-Fetch-Site) is refused"
    origin = headers.get("Origin")
    if origin is not None and origin.strip().lower() != f"http://{(host_header or '').lower()}":
        return f"a request from origin {origin!r} is refused (only this server's own origin)"
    return None


# --- bodies ------------------------------------------------------------------------------------


class BadBody(ValueError):
    """A request body the kit refuses; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def content_length(value: str | None, limit: int) -> int:
    """The ``Content-Length`` header as a byte count within ``limit``; raises :class:`BadBody`."""
    if value is None or value.strip() == "":
        return 0
    text = value.strip()
    if not text.isdigit():
        raise BadBody(f"Content-Length {value!r} is not a non-negative integer", 400)
    length = int(text)
    if length > limit:
        raise BadBody(f"the body is {length} bytes; at most {limit} are accepted here", 413)
    return length


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (strict JSON has no NaN or Infinity)")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def parse_json(data: bytes | str) -> Any:
    """Strict JSON of a request body; raises :class:`BadBody` (400) for anything else.

    NaN, Infinity and nesting deeper than :data:`MAX_JSON_DEPTH` are refused (Python's parser
    would raise RecursionError, a 500, on a deep enough document).
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadBody("the body is not UTF-8 JSON") from None
    opened = _max_bracket_depth(data)
    if opened > MAX_JSON_DEPTH:
        raise BadBody(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is refused")
    try:
        value = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise BadBody(f"the body is not JSON: {error}") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise BadBody(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is refused")
    return value


_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(data: bytes | str) -> int:
    """How deep a JSON text's brackets nest (strings skipped; stops counting past the limit)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return _max_bracket_depth(data)


def _max_bracket_depth(text: str) -> int:
    """Deepest bracket nesting outside strings (checked before parsing)."""
    depth = deepest = 0
    for match in _STRUCTURE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif token in "]}":
            depth -= 1
    return deepest


# --- response headers --------------------------------------------------------------------------

_INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_LIQUID = re.compile(r"\{\{|\{%")


def script_hashes(template: str) -> list[str] | None:
    """CSP hash sources of the template's inline scripts; None when one holds Liquid markup.

    A task template is its author's code; its inline ``<script>`` blocks are allowed by hash,
    so script that arrives any other way (an input value rendered with ``skip_autoescape``, an
    inline handler) does not run. A script block that contains Liquid output renders
    differently per task, so its hash cannot be known in advance: such a template gets
    ``'unsafe-inline'`` (as it would need on A2I's portal too).
    """
    hashes = []
    for attributes, body in _INLINE_SCRIPT.findall(template):
        if re.search(r"\bsrc\s*=", attributes, re.IGNORECASE):
            continue
        if _LIQUID.search(body):
            return None
        digest = hashlib.sha256(body.encode("utf-8")).digest()
        hashes.append("'sha256-" + base64.b64encode(digest).decode() + "'")
    return hashes


def page_csp(template: str | None = None) -> str:
    """Content-Security-Policy of an HTML page; ``template`` is the task template it shows.

    Without a template (the portal's own pages) no script runs. With one, scripts come from
    this server (the crowd-html-elements stand-in) or are the template's own inline scripts,
    allowed by hash. Styles may be inline (a template's ``<style>``; CSS cannot run script).
    """
    if template is None:
        scripts = "'none'"
    else:
        hashes = script_hashes(template)
        scripts = "'self' 'unsafe-inline'" if hashes is None else " ".join(["'self'", *hashes])
    return (
        "default-src 'none'; "
        f"script-src {scripts}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
        "frame-src 'none'; frame-ancestors 'none'"
    )


def page_headers(template: str | None = None) -> dict[str, str]:
    """Headers every HTML page of the kit's servers carries."""
    return {
        "Content-Security-Policy": page_csp(template),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


#: Media types a browser shows inline without running anything.
_INLINE_TYPES = re.compile(r"^(video|audio)/|^image/(png|jpeg|gif|webp|avif|bmp)$|^text/plain$")


def media_headers(content_type: str) -> dict[str, str]:
    """Headers of a served bucket object: it never runs on the server's origin.

    ``nosniff`` keeps the browser to the given type, the sandboxing CSP gives a document an
    opaque origin with no script, anything but plain video, audio, raster images and text is
    an attachment (downloaded, not shown), and no other site may embed it.
    """
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": (
            "sandbox; default-src 'none'; media-src 'self'; img-src 'self'; "
            "style-src 'unsafe-inline'; frame-ancestors 'none'"
        ),
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if not _INLINE_TYPES.match(content_type.split(";")[0].strip().lower()):
        headers["Content-Disposition"] = "attachment"
    return headers
