"""The stand-in as an HTTP server (moto server plus the kit's extensions).

Point any process at it with the environment of :attr:`OfflineServer.env` (``AWS_ENDPOINT_URL``
and the offline credentials): boto3 sends every service there, and the server tells services
apart by the SigV4 credential scope, as moto's server does, with one addition: requests signed
for ``sagemaker`` whose path starts with ``/human-loops`` are A2I runtime requests.

Control endpoints (JSON) besides moto's own ``/moto-api/``:

* ``GET /_kit/health`` → ``{"ok": true, "moto": "<version>"}``
* ``GET /_kit/settings`` → the active settings; ``POST /_kit/settings`` with a JSON object of
  fields to change (unknown fields or bad values → 400)
* ``GET /_kit/faults``, ``POST /_kit/faults`` (JSON, see :mod:`helpers.offline.faults`),
  ``DELETE /_kit/faults`` → inject or clear faults at runtime
* ``POST /_kit/advance`` with ``{"seconds": N}`` → moves the stand-in's clock forward

Every control endpoint but ``/_kit/health``, and moto's ``/moto-api/``, needs the server's
secret in the ``X-Kit-Secret`` header (:attr:`OfflineServer.secret`, also in its ``env`` as
``VMK_OFFLINE_SECRET``; :mod:`helpers.offline.control` sends it). Before anything else, every
request passes the checks of :mod:`helpers.offline.guard`: a loopback ``Host``, nothing sent by
another site, bodies within their limits (see the Security section of the README).

The offline worker portal (:mod:`helpers.offline.portal`) answers under ``/_portal/`` on the same
port; while the server runs, DescribeWorkteam's ``SubDomain`` is the portal as a host name,
``worker-portal.localhost:<port>``, whose ``/`` redirects to ``/_portal/`` (unless the settings
name another ``workteam_subdomain``: ``"url"`` gives the portal's full URL). The portal's pages
link with paths only, so they work on whichever loopback name the browser used.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import threading
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from helpers.offline import guard
from helpers.offline import settings as _settings
from helpers.offline.registration import install

LOG = logging.getLogger("helpers.offline")
#: One DEBUG line per HTTP request (werkzeug would print each to stderr at INFO).
HTTP_LOG = logging.getLogger("helpers.offline.http")
CONTROL_PREFIX = "/_kit/"
#: Where the offline worker portal answers (see :mod:`helpers.offline.portal`).
PORTAL_PREFIX = "/_portal/"
#: moto's own control endpoints (reset, dashboard); guarded like ``/_kit/``.
MOTO_API_PREFIX = "/moto-api"
#: ``workteam_subdomain`` value asking for the portal as a host name, as AWS gives SubDomain:
#: ``worker-portal.localhost:<port>`` (Chromium resolves every ``*.localhost`` to loopback).
#: None (the default) gives the same.
PORTAL_HOST_STYLE = "localhost"
#: ``workteam_subdomain`` value asking for the portal's full URL,
#: ``http://127.0.0.1:<port>/_portal/`` (the default before SubDomain became a host name).
PORTAL_URL_STYLE = "url"
PORTAL_HOST_NAME = "worker-portal.localhost"


class _RequestHandler(MotoRequestHandler):
    """moto's request handler, logging requests at DEBUG on ``helpers.offline.http``."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        HTTP_LOG.debug('"%s" %s %s', self.requestline, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.WARNING if type == "error" else logging.DEBUG
        HTTP_LOG.log(level, message.rstrip(), *args)


class KitDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, routing A2I runtime requests and the ``/_kit/`` control endpoints."""

    def infer_service_region_host(self, environ: dict[str, Any], path: str) -> str | None:
        host = super().infer_service_region_host(environ, path)
        if (
            host
            and host.startswith("api.sagemaker.")
            and environ.get("PATH_INFO", "").startswith("/human-loops")
        ):
            region = host[len("api.sagemaker.") : -len(".amazonaws.com")]
            return f"a2i-runtime.sagemaker.{region}.amazonaws.com"
        return host

    #: How many service hosts' backends are remembered (a host comes from the request's
    #: credential scope, so the table is bounded).
    KNOWN_HOSTS = 256

    def get_backend_for_host(self, host: str | None) -> Any:
        """moto's answer, remembered: moto lists its package's folders to give it on every
        request (about 1 ms), and it depends on the host alone."""
        known = self.__dict__.setdefault("_backend_of_host", {})
        if host in known:
            return known[host]
        backend = super().get_backend_for_host(host)
        if len(known) < self.KNOWN_HOSTS:
            known[host] = backend
        return backend

    #: The per-server secret of the control endpoints (set by :func:`start_server`).
    secret: str | None = None
    #: The address the server listens on (a specific one is an accepted Host too).
    bound_host: str | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        refusal = self._refusal(environ, path)
        if refusal is not None:
            return refusal(environ, start_response)
        if path.startswith(CONTROL_PREFIX):
            return _control(Request(environ))(environ, start_response)
        portal_root = path in ("", "/") and _host_name(environ) == PORTAL_HOST_NAME
        if portal_root or path == PORTAL_PREFIX.rstrip("/"):
            redirect = Response(status=308, headers={"Location": PORTAL_PREFIX})
            return redirect(environ, start_response)
        if path.startswith(PORTAL_PREFIX):
            from helpers.offline import portal

            return portal.application(environ, start_response)
        return super().__call__(environ, _without_cors(environ, start_response))

    def _refusal(self, environ: dict[str, Any], path: str) -> Response | None:
        """The answer to a request refused before anything acts on it, or None to go on."""
        request = Request(environ)
        host = environ.get("HTTP_HOST")
        problem = guard.host_problem(host, self.bound_host)
        if problem:
            guard.refused("host")
            return _json({"error": problem}, 403)
        control = path.startswith(CONTROL_PREFIX) or path.startswith(MOTO_API_PREFIX)
        portal = path.startswith(PORTAL_PREFIX.rstrip("/"))
        problem = guard.cross_site_problem(
            request.headers, host, unsafe_only=portal, method=request.method
        )
        if problem:
            guard.refused("cross-site")
            LOG.warning("refused %s %s: %s", request.method, path, problem)
            return _json({"error": problem, "message": problem}, 403)
        open_route = path == CONTROL_PREFIX + "health" and request.method in ("GET", "HEAD")
        given = request.headers.get(guard.SECRET_HEADER)
        if control and not open_route and not guard.secret_matches(self.secret, given):
            guard.refused("secret")
            message = (
                f"control endpoints need this server's secret in the {guard.SECRET_HEADER} "
                f"header (the server's env gives it as {guard.SECRET_ENV})"
            )
            return _json({"error": message}, 403)
        limit = None
        if control or portal:
            limit = guard.MAX_CONTROL_BYTES
            if portal and path.endswith("/submit"):
                limit = guard.MAX_ANSWER_BYTES
        try:
            guard.content_length(environ.get("CONTENT_LENGTH"), limit or 2**63)
        except guard.BadBody as error:
            guard.refused("body")
            return _json({"error": str(error), "message": str(error)}, error.status)
        if limit is not None and not environ.get("CONTENT_LENGTH"):
            chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
            if chunked and request.method in guard.UNSAFE_METHODS:
                # read the chunked body here, within the limit, and hand it on as a sized one
                data = environ["wsgi.input"].read(limit + 1)
                if len(data) > limit:
                    guard.refused("body")
                    message = f"the body is over {limit} bytes; at most {limit} are accepted here"
                    return _json({"error": message, "message": message}, 413)
                environ["wsgi.input"] = io.BytesIO(data)
                environ["CONTENT_LENGTH"] = str(len(data))
                environ.pop("wsgi.input_terminated", None)
                environ.pop("HTTP_TRANSFER_ENCODING", None)  # werkzeug ignores a length else
        if limit is None and _json_api(environ, path):
            return _too_deep(environ)
        return None


#: AWS API requests whose JSON bodies moto parses (JSON protocol, A2I's REST JSON).
_JSON_API_BYTES = 16 * 1024 * 1024


def _json_api(environ: dict[str, Any], path: str) -> bool:
    length = environ.get("CONTENT_LENGTH") or ""
    sized = length.isdigit() and 0 < int(length) <= _JSON_API_BYTES
    return sized and ("HTTP_X_AMZ_TARGET" in environ or path.startswith("/human-loops"))


def _too_deep(environ: dict[str, Any]) -> Response | None:
    """400 SerializationException for a JSON body nested deeper than AWS would parse.

    moto parses with Python's json, which raises RecursionError (a 500) on a deep enough body.
    """
    data = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    if guard.json_depth(data) <= guard.MAX_JSON_DEPTH:
        return None
    guard.refused("body")
    message = f"Request body is nested deeper than {guard.MAX_JSON_DEPTH} levels"
    return Response(
        json.dumps({"__type": "SerializationException", "message": message}),
        status=400,
        headers={"x-amzn-ErrorType": "SerializationException"},
        mimetype="application/x-amz-json-1.1",
    )


#: Headers of every AWS endpoint answer: data for programs, never a document that runs (an
#: object GET from S3 on the portal's origin is as dangerous as one under /_portal/media/).
_API_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]


def _without_cors(environ: dict[str, Any], start_response: Any) -> Any:
    """``start_response`` that drops moto's CORS headers (it reflects any origin).

    Only this server's own origin may read its answers, and the same origin needs no CORS.
    Every answer also gets :data:`_API_HEADERS`.
    """

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        names = {k.lower() for k, _ in kept}
        kept += [(k, v) for k, v in _API_HEADERS if k.lower() not in names]
        return start_response(status, kept, exc_info) if exc_info else start_response(status, kept)

    return start


def _host_name(environ: dict[str, Any]) -> str:
    host = str(environ.get("HTTP_HOST") or "")
    return host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host.lower()


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _body(request: Request) -> Any:
    """The request's JSON body (within the control limit); raises :class:`guard.BadBody`."""
    data = request.stream.read(guard.MAX_CONTROL_BYTES + 1)
    if len(data) > guard.MAX_CONTROL_BYTES:
        raise guard.BadBody(f"at most {guard.MAX_CONTROL_BYTES} bytes are accepted here", 413)
    return guard.parse_json(data) if data.strip() else None


def _seconds(body: Any) -> float:
    """``{"seconds": N}`` → N, a finite number >= 0 (raises ValueError otherwise)."""
    if not isinstance(body, dict) or "seconds" not in body:
        raise ValueError('send {"seconds": N}, N a number of seconds >= 0')
    seconds = body["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ValueError(f"seconds must be a number, not {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}")
    return float(seconds)


def _control(request: Request) -> Response:
    from helpers.offline import faults, moto_compat, rekognition

    route = request.path[len(CONTROL_PREFIX) :].strip("/")
    cfg = _settings.current_settings()
    try:
        if route == "health" and request.method == "GET":
            return _json({"ok": True, "moto": moto_compat.moto_version()})
        if route == "settings" and request.method == "GET":
            return _json(cfg.to_dict())
        if route == "settings" and request.method == "POST":
            changes = _body(request)
            if not isinstance(changes, dict):
                return _json({"error": "send a JSON object of settings to change"}, 400)
            cfg.update(changes)
            LOG.info("settings changed over HTTP: %s", sorted(changes))
            return _json(cfg.to_dict())
        if route == "faults" and request.method == "GET":
            return _json({"active": faults.active(), "fired": faults.fired()})
        if route == "faults" and request.method == "POST":
            body = _body(request)
            if not isinstance(body, dict):
                return _json({"error": "send a JSON object of faults to inject"}, 400)
            return _json({"active": faults.inject(**body), "fired": faults.fired()})
        if route == "faults" and request.method == "DELETE":
            faults.clear()
            return _json({"active": faults.active(), "fired": {}})
        if route == "advance" and request.method == "POST":
            moment = _settings.advance_clock(_seconds(_body(request)))
            rekognition.notify_due_jobs()
            return _json({"now": moment.isoformat()})
    except guard.BadBody as error:
        guard.refused("body")
        return _json({"error": str(error)}, error.status)
    except (TypeError, ValueError, OverflowError) as error:
        guard.refused("control value")
        return _json({"error": str(error)}, 400)
    return _json({"error": f"no control endpoint {request.method} {request.path}"}, 404)


#: How soon the server's loop sees a stop request (:meth:`OfflineServer.stop`).
STOP_POLL_S = 0.05
_NO_SUCH_ARN = "arn:aws:sagemaker:us-east-1:000000000000:flow-definition/warm-up"
#: One read-only request per service the kit calls (see :meth:`OfflineServer.warm_up`).
_WARM_UP_CALLS: list[tuple[str, Any]] = [
    ("sts", lambda c: c.get_caller_identity()),
    ("iam", lambda c: c.list_roles(MaxItems=1)),
    ("s3", lambda c: c.list_buckets()),
    ("rekognition", lambda c: c.get_content_moderation(JobId="warm-up")),
    ("sagemaker", lambda c: c.list_workteams(MaxResults=1)),
    ("sagemaker-a2i-runtime", lambda c: c.list_human_loops(FlowDefinitionArn=_NO_SUCH_ARN)),
    ("sns", lambda c: c.list_topics()),
    ("sqs", lambda c: c.list_queues()),
]


def environment(endpoint: str, region: str, secret: str | None = None) -> dict[str, str]:
    """The environment that points boto3 at the server as the offline identity.

    With ``secret``, it also carries the server's control secret (``VMK_OFFLINE_SECRET``), so
    the processes it is given to (notebook kernels) may post faults and settings.
    """
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": _settings.OFFLINE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": _settings.OFFLINE_SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": _settings.OFFLINE_SESSION_TOKEN,
        "AWS_DEFAULT_REGION": region,
    }
    if secret:
        env[guard.SECRET_ENV] = secret
    return env


def shell_lines(env: dict[str, str]) -> list[str]:
    """``export`` lines for ``env`` plus ``unset AWS_PROFILE`` (a profile would win)."""
    return [f"export {name}={value}" for name, value in env.items()] + ["unset AWS_PROFILE"]


class OfflineServer:
    """A running stand-in server (from :func:`start_server`); also a context manager."""

    def __init__(
        self,
        server: BaseWSGIServer,
        thread: threading.Thread,
        cfg: _settings.OfflineSettings,
        previous: tuple[_settings.OfflineSettings, float],
        env_file: Path | None,
        secret: str,
    ) -> None:
        self._server = server
        #: The control endpoints' secret (header ``X-Kit-Secret``); also in :attr:`env`.
        self.secret = secret
        self._thread = thread
        self._previous = previous
        self._env_file = env_file
        self.settings = cfg
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.endpoint = f"http://{self.host}:{self.port}"
        #: Environment that points boto3 at this server as the offline identity.
        self.env = environment(self.endpoint, cfg.region, secret)
        #: The offline worker portal's URL on the server's address (the SubDomain with
        #: ``workteam_subdomain="url"``; RenderUiTemplate's media URLs start with it).
        self.portal_url = f"{self.endpoint}{PORTAL_PREFIX}"
        #: The portal's host name and port: DescribeWorkteam's SubDomain while the server runs
        #: (``http://`` + it opens the portal: its ``/`` redirects to ``/_portal/``).
        self.portal_host = f"{PORTAL_HOST_NAME}:{self.port}"
        #: The link a person opens: ``http://`` + :attr:`portal_host` + ``/``.
        self.portal_link = f"http://{self.portal_host}/"
        self._subdomain_asked = cfg.workteam_subdomain
        self._owns_subdomain = cfg.workteam_subdomain in (
            None,
            PORTAL_HOST_STYLE,
            PORTAL_URL_STYLE,
        )
        if self._owns_subdomain:
            # *.localhost reaches this server only when it listens on loopback (or everywhere);
            # on a specific other address (``--host 192.168.1.5``) the default is the URL
            reachable = self.host in ("0.0.0.0", "::", "") or guard.is_loopback_name(self.host)
            use_url = cfg.workteam_subdomain == PORTAL_URL_STYLE or (
                cfg.workteam_subdomain is None and not reachable
            )
            cfg.workteam_subdomain = self.portal_url if use_url else self.portal_host
        self._subdomain = cfg.workteam_subdomain
        from helpers.offline import portal

        portal.set_base_url(self.portal_url)

    def stop(self) -> None:
        """Stop serving, remove the env file this server wrote, restore previous settings."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._server.server_close()
            if self._env_file is not None:
                self._env_file.unlink(missing_ok=True)
            if self._owns_subdomain and self.settings.workteam_subdomain == self._subdomain:
                self.settings.workteam_subdomain = self._subdomain_asked
            from helpers.offline import portal

            if portal.base_url() == self.portal_url:
                portal.set_base_url(None)
            _settings.restore(self._previous)
            LOG.info("offline stand-in at %s stopped", self.endpoint)

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` at this server, as the offline identity."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.env["AWS_DEFAULT_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=self.env["AWS_SESSION_TOKEN"],
        )

    def control(self, method: str, route: str, body: Any = None) -> Any:
        """One request to this server's ``/_kit/<route>``, with its secret (JSON answer).

        Raises :class:`helpers.offline.control.ControlError` when the server refuses it.
        """
        from helpers.offline import control

        return control.call(method, route, body, endpoint=self.endpoint, secret=self.secret)

    def warm_up(self) -> None:
        """Load every service the kit uses now rather than on its first request.

        moto builds a service's backend and the stand-in parses its botocore model on the first
        request (a third of a second for SageMaker). AWS is always warm, so a run that measures
        the lab (``make demo``, ``make bench``) warms the stand-in first. Only read-only calls
        are made; nothing is created.
        """
        from botocore.exceptions import ClientError

        for service, call in _WARM_UP_CALLS:
            try:
                call(self.client(service))
            except ClientError as err:  # e.g. an unknown job id: the model is loaded all the same
                LOG.debug("warm-up %s: %s", service, err.response["Error"]["Code"])
        # RenderUiTemplate and the worker portal render Liquid with the kit's preview code
        from helpers.offline import portal

        portal.render_task("{{ task.input.title }}", {"title": "warm-up"}, str)

    def __enter__(self) -> OfflineServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """Write ``env`` as sourceable shell lines, atomically (the file appears complete)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    text = (
        "# offline AWS stand-in of the video moderation kit; source this file\n"
        + "\n".join(shell_lines(env))
        + "\n"
    )
    # only this user may read it: it holds the server's control secret
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)


def start_server(
    settings: _settings.OfflineSettings | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    env_file: str | os.PathLike[str] | None = None,
) -> OfflineServer:
    """Start the stand-in on ``host:port`` in a background thread (``port=0``: a free port).

    Makes ``settings`` active for the process until :meth:`OfflineServer.stop`. With
    ``env_file``, writes the environment there once the server listens. The stand-in starts
    empty: moto's state from anything earlier in this process is wiped.
    """
    from moto.core.base_backend import BackendDict

    install()
    BackendDict.reset()
    cfg = settings if settings is not None else _settings.OfflineSettings()
    app = KitDispatcher(create_backend_app)
    app.secret = guard.new_secret()
    app.bound_host = host
    server = make_server(host, port, app, threaded=True, request_handler=_RequestHandler)
    previous = _settings.activate(cfg)
    # the serving loop looks for a stop request every STOP_POLL_S (socketserver's default, 0.5 s,
    # made every stop wait a quarter of a second on average)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": STOP_POLL_S},
        name="vmk-offline-aws",
        daemon=True,
    )
    thread.start()
    handle = OfflineServer(
        server, thread, cfg, previous, Path(env_file) if env_file else None, app.secret
    )
    if env_file:
        write_env_file(Path(env_file), handle.env)
    LOG.info("offline stand-in listening at %s", handle.endpoint)
    return handle
