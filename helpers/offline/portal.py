"""The offline worker portal: where the private work team's workers find and do their tasks.

The stand-in's HTTP server serves it under ``/_portal/`` on its own port (routed before moto's
dispatcher, see :mod:`helpers.offline.server`), and DescribeWorkteam's ``SubDomain`` points at
it while the server runs (``worker-portal.localhost:<port>``, a host name as on AWS), so the
link a notebook prints works offline as it does on AWS. Its pages link with paths only, so a
reviewer stays on the origin they opened (the stand-in refuses other sites' requests).

* ``GET /_portal/`` lists the open tasks (human loops ``InProgress``) of every flow definition,
  for the signed-in worker (a name in a cookie; ``?worker=<name>`` switches worker).
* ``GET /_portal/tasks/<account>/<region>/<loop>`` renders the flow definition's human task UI
  with the loop's input (python-liquid, the environment of :mod:`helpers.preview`) and records
  when the worker accepted the task. ``grant_read_access`` gives ``/_portal/media/...`` URLs
  that serve the S3 object's bytes with HTTP Range support, so the video can seek.
  crowd-html-elements.js is replaced by the kit's stand-in, served at
  ``/_portal/crowd-html-elements.js``, which POSTs the answer to the task's ``/submit``.
* ``POST /_portal/tasks/<account>/<region>/<loop>/submit`` with ``{"answerContent": {...}}``
  records the answer through :func:`submit_task`, the one path by which answers arrive (the
  auto reviewer uses it too), so both write the same ``output.json``.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import mimetypes
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from helpers.offline import a2i_runtime, guard, settings
from helpers.offline import sagemaker as sm
from helpers.offline.a2i_runtime import DEFAULT_TASK_TIME_LIMIT as DEFAULT_TASK_TIME_LIMIT
from helpers.offline.a2i_runtime import TaskTimeLimitPassed as TaskTimeLimitPassed
from helpers.offline.a2i_runtime import accept as accept
from helpers.offline.a2i_runtime import submit_task as submit_task
from helpers.offline.a2i_runtime import time_limit as time_limit
from helpers.offline.pages import PREFIX as PREFIX
from helpers.offline.pages import base_url as base_url
from helpers.offline.pages import grant_read_access as grant_read_access
from helpers.offline.pages import media_path as media_path
from helpers.offline.pages import render_task as render_task
from helpers.offline.pages import set_base_url as set_base_url

LOG = logging.getLogger("helpers.offline")

WORKER_COOKIE = "vmk-portal-worker"
DEFAULT_WORKER = "reviewer"
_WORKER_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# --- workers, tasks and answers ---------------------------------------------------------------


def portal_worker(account_id: str, region: str, name: str) -> a2i_runtime.Worker:
    """The work team member called ``name`` (stable ids per account, region and name)."""
    state = sm.state_of(sm.sagemaker_backend(account_id, region))
    team = state.workteams[settings.current_settings().workteam_name]
    seed = f"{account_id}:{region}:portal:{name}"
    return a2i_runtime.Worker(
        worker_id=hashlib.sha256(seed.encode()).hexdigest()[:16],
        sub=str(uuid.uuid5(uuid.NAMESPACE_URL, seed)),
        issuer=team.issuer,
    )


def _backends() -> Iterator[a2i_runtime.A2IRuntimeBackend]:
    for regions in list(dict.values(a2i_runtime.a2i_runtime_backends)):
        yield from list(dict.values(regions))


def find_loop(
    account_id: str, region: str, name: str
) -> tuple[a2i_runtime.A2IRuntimeBackend, a2i_runtime.HumanLoop] | None:
    """The backend and loop called ``name`` in that account and region (None when none)."""
    regions = dict.get(a2i_runtime.a2i_runtime_backends, account_id)
    backend = dict.get(regions, region) if regions is not None else None
    if backend is None:
        return None
    with backend.lock:
        loop = backend.human_loops.get(name)
        if loop is None:
            return None
        loop.refresh()
        return backend, loop


def open_tasks(worker_name: str | None = None) -> list[dict[str, Any]]:
    """The open tasks of every flow definition, oldest first.

    A task is a loop ``InProgress`` that ``worker_name`` (when given) has not answered yet.
    """
    tasks = []
    for backend in _backends():
        worker = (
            portal_worker(backend.account_id, backend.region_name, worker_name)
            if worker_name
            else None
        )
        with backend.lock:
            loops = list(backend.human_loops.values())
            for loop in loops:
                loop.refresh()
            for loop in loops:
                if loop.status != "InProgress":
                    continue
                if worker and any(a["workerId"] == worker.worker_id for a in loop.answers):
                    continue
                flow = a2i_runtime.flow_of(backend, loop)
                config = flow.request.get("HumanLoopConfig", {}) if flow is not None else {}
                doc = loop.input_object if isinstance(loop.input_object, dict) else {}
                items = doc.get("items")
                tasks.append(
                    {
                        "account": backend.account_id,
                        "region": backend.region_name,
                        "loop": loop.name,
                        "flow_definition": loop.flow_definition_name,
                        "title": config.get("TaskTitle", loop.flow_definition_name),
                        "description": config.get("TaskDescription", ""),
                        "created": loop.created_at,
                        "items": len(items) if isinstance(items, list) else None,
                        "answers": len(loop.answers),
                        "task_count": loop.task_count,
                        "path": task_path(backend.account_id, backend.region_name, loop.name),
                        "video_title": _video_title(doc),
                        "part": _part(doc),
                        "time_limit": int(
                            config.get("TaskTimeLimitInSeconds") or DEFAULT_TASK_TIME_LIMIT
                        ),
                    }
                )
    return sorted(tasks, key=lambda task: task["created"])


def _video_title(doc: dict[str, Any]) -> str:
    """The loop input's ``video.title`` (the kit's reviewer input), or ""."""
    video = doc.get("video")
    title = video.get("title") if isinstance(video, dict) else None
    return title.strip() if isinstance(title, str) else ""


def _part(doc: dict[str, Any]) -> tuple[int, int] | None:
    """``(n, count)`` for a review split into time windows (input ``window``), else None."""
    window = doc.get("window")
    if not isinstance(window, dict):
        return None
    index, count = window.get("index"), window.get("count")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (index, count)):
        return None
    return (index + 1, count) if count > 1 and 0 <= index < count else None


def _duration(seconds: float) -> str:
    """``seconds`` for people: "45 s", "12 min", "3 h 5 min", "2 days"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days = seconds // 86400
    return f"{days} day" + ("s" if days > 1 else "")


def task_path(account_id: str, region: str, loop_name: str) -> str:
    """The portal path of a task."""
    return f"{PREFIX}tasks/{account_id}/{region}/{loop_name}"


# --- rendering ---------------------------------------------------------------------------------


def task_template(backend: a2i_runtime.A2IRuntimeBackend, loop: a2i_runtime.HumanLoop) -> str:
    """The Liquid template of the loop's human task UI. Raises LookupError when it is gone."""
    flow = a2i_runtime.flow_of(backend, loop)
    if flow is None:
        raise LookupError(f"flow definition {loop.flow_definition_arn} no longer exists")
    ui_arn = flow.request["HumanLoopConfig"]["HumanTaskUiArn"]
    state = sm.state_of(sm.sagemaker_backend(backend.account_id, backend.region_name))
    ui = state.human_task_uis.get(ui_arn.rsplit("/", 1)[-1])
    if ui is None or ui.arn != ui_arn:
        raise LookupError(f"human task UI {ui_arn} was deleted, so the task cannot be shown")
    return ui.content


# --- HTTP --------------------------------------------------------------------------------------

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; }
header.portal { background: #232f3e; color: #fff; padding: 8px 16px; display: flex; gap: 16px;
  align-items: center; flex-wrap: wrap; }
header.portal a { color: #fff; }
main.portal { padding: 12px 16px; }
table.portal { border-collapse: collapse; }
table.portal td, table.portal th { border-bottom: 1px solid #ddd; padding: 6px 10px;
  text-align: left; }
.portal-note { color: #555; }
.portal-ok { color: #067647; font-weight: 600; }
"""


#: An empty icon: the browser asks for no /favicon.ico (the server has none to give).
_ICON = "<link rel='icon' href='data:,'>"


def _page(title: str, body: str, worker: str, status: int = 200) -> Response:
    document = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{_ICON}"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"{_header(worker)}<main class='portal'>{body}</main></body></html>"
    )
    return Response(document, status=status, mimetype="text/html")


def _header(worker: str, task_title: str | None = None) -> str:
    title = f"<span>Task: <strong>{html.escape(task_title)}</strong></span>" if task_title else ""
    return (
        "<header class='portal' id='vmk-portal-bar'>"
        f"<a href='{PREFIX}'><strong>Worker portal</strong></a> {title}"
        f"<span>Signed in as <strong id='vmk-portal-worker'>{html.escape(worker)}</strong></span>"
        "<span class='portal-note' style='color:#cdd'>offline stand-in of the A2I worker portal"
        "</span></header>"
    )


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _worker_name(request: Request) -> str | None:
    name = request.args.get("worker") or request.cookies.get(WORKER_COOKIE) or DEFAULT_WORKER
    return name if _WORKER_NAME.match(name) else None


def _task_list(request: Request, worker: str) -> Response:
    tasks = open_tasks(worker)
    done = request.args.get("submitted")
    now = settings.now()

    def row(t: dict[str, Any]) -> str:
        # The video's title names the task (every loop of a flow definition shares TaskTitle);
        # a split review says which part it is; age and time limit say what is urgent.
        name = t["video_title"] or t["title"]
        part = f"part {t['part'][0]} of {t['part'][1]}" if t["part"] else ""
        about = " · ".join(x for x in (part, t["title"] if t["video_title"] else "") if x)
        created = t["created"]
        age = _duration((now - created).total_seconds()) if created.tzinfo else ""
        return (
            "<tr>"
            f"<td><a class='portal-task' href='{html.escape(t['path'])}'>{html.escape(name)}</a>"
            + (f" <strong class='portal-part'>{html.escape(part)}</strong>" if part else "")
            + f"<br><span class='portal-note'>{html.escape(about or t['description'])}</span></td>"
            f"<td>{'' if t['items'] is None else t['items']}</td>"
            f"<td>{t['answers']} of {t['task_count']}</td>"
            f"<td class='portal-age'>{age}<br><span class='portal-note'>"
            f"{created.strftime('%Y-%m-%d %H:%M:%S')} UTC</span></td>"
            f"<td class='portal-limit'>{_duration(t['time_limit'])}</td>"
            f"<td class='portal-note'>{html.escape(t['loop'])}</td>"
            "</tr>"
        )

    rows = "".join(row(t) for t in tasks)
    body = "<h1>Your tasks</h1>"
    if done:
        body += f"<p class='portal-ok'>Task {html.escape(done)} submitted. Thank you.</p>"
    if rows:
        body += (
            "<table class='portal' id='portal-tasks'><thead><tr><th>Video</th><th>Items</th>"
            "<th>Answers</th><th>Age</th><th>Time limit</th><th>Human loop</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    else:
        body += (
            "<p id='portal-empty'>No open tasks. A task appears here when a notebook starts a "
            "human loop; reload this page then.</p>"
        )
    body += (
        "<form method='get' style='margin-top:24px'><label>Work as "
        f"<input name='worker' value='{html.escape(worker)}' pattern='[A-Za-z0-9._\\-]{{1,64}}'>"
        "</label> <button>Switch worker</button> <span class='portal-note'>(each worker "
        "answers a task once; a flow definition with TaskCount 2 or 3 needs as many)</span>"
        "</form>"
    )
    return _page("Worker portal (offline)", body, worker)


def _task(request: Request, worker_name: str, account: str, region: str, name: str) -> Response:
    found = find_loop(account, region, name)
    if found is None:
        return _page("No such task", f"<p>No human loop {html.escape(name)}.</p>", worker_name, 404)
    backend, loop = found
    if loop.status != "InProgress":
        text = f"Task {html.escape(name)} is {html.escape(loop.status)}; it takes no answers."
        return _page("Task closed", f"<p>{text}</p>", worker_name, 409)
    worker = portal_worker(account, region, worker_name)
    if any(a["workerId"] == worker.worker_id for a in loop.answers):
        text = f"You already answered task {html.escape(name)}."
        return _page("Task answered", f"<p>{text}</p>", worker_name, 409)
    try:
        template = task_template(backend, loop)
        page = render_task(template, loop.input_object, grant_read_access(account))
    except Exception as error:  # shown to the worker the way A2I shows a broken task
        LOG.warning("task %s does not render: %s", name, error)
        message = f"The task's template does not render: {type(error).__name__}: {error}"
        return _page("Task error", f"<pre>{html.escape(message)}</pre>", worker_name, 500)
    accept(backend, loop, worker)
    from helpers import preview

    flow = a2i_runtime.flow_of(backend, loop)
    title = flow.request["HumanLoopConfig"].get("TaskTitle", name) if flow else name
    page = preview.local_page(
        page,
        f"{PREFIX}crowd-html-elements.js",
        submit_url=f"{task_path(account, region, name)}/submit",
        done_url=f"{PREFIX}?submitted={quote(name)}",
    )
    document = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{_ICON}"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"{_header(worker_name, title)}<main class='portal'>{page}</main></body></html>"
    )
    return Response(document, mimetype="text/html", headers=guard.page_headers(template))


def _submit(request: Request, worker_name: str, account: str, region: str, name: str) -> Response:
    data = request.stream.read(guard.MAX_ANSWER_BYTES + 1)
    if len(data) > guard.MAX_ANSWER_BYTES:
        guard.refused("body")
        return _json({"message": f"an answer is at most {guard.MAX_ANSWER_BYTES} bytes"}, 413)
    try:
        body = guard.parse_json(data)
    except guard.BadBody as error:
        guard.refused("body")
        return _json({"message": str(error)}, error.status)
    found = find_loop(account, region, name)
    if found is None:
        return _json({"message": f"no human loop {name} in {account}/{region}"}, 404)
    backend, loop = found
    if not isinstance(body, dict) or not isinstance(body.get("answerContent"), dict):
        return _json({"message": 'send a JSON object {"answerContent": {...}}'}, 400)
    worker = portal_worker(account, region, worker_name)
    try:
        submit_task(backend, loop, body["answerContent"], worker)
    except (a2i_runtime.HumanLoopClosed, TaskTimeLimitPassed) as error:
        return _json({"message": str(error)}, 409)
    LOG.info("worker %s submitted human loop %s (%s)", worker_name, name, loop.status)
    return _json(
        {
            "message": "Task submitted.",
            "humanLoopName": loop.name,
            "humanLoopStatus": loop.status,
            "workerId": worker.worker_id,
        }
    )


def _media(request: Request, parts: list[str]) -> Response:
    from moto.s3.models import s3_backends

    from helpers import preview

    if len(parts) < 3:
        return Response("not found", status=404, mimetype="text/plain")
    account, bucket, key = parts[0], parts[1], "/".join(parts[2:])
    backend = s3_backends[account]["aws"]
    obj = backend.get_object(bucket, key) if bucket in backend.buckets else None
    if obj is None:
        return Response(f"no object s3://{bucket}/{key}", status=404, mimetype="text/plain")
    data = bytes(obj.value)
    status, headers, chunk = preview.range_response(data, request.headers.get("Range"))
    kind = obj.metadata.get("Content-Type")
    if not kind or kind == "binary/octet-stream":
        kind = mimetypes.guess_type(key)[0] or "application/octet-stream"
    response = Response(chunk if request.method != "HEAD" else b"", status=status, mimetype=kind)
    for name, value in headers.items():
        response.headers[name] = value
    # an uploaded HTML or SVG must never run on the portal's origin (see guard.media_headers)
    for name, value in guard.media_headers(kind).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def application(environ: dict[str, Any], start_response: Any) -> Any:
    """The portal as a WSGI application (paths under ``/_portal/``)."""
    request = Request(environ)
    route = request.path[len(PREFIX) :].strip("/")
    parts = route.split("/") if route else []
    if "worker" in request.args:
        # switching worker changes who the browser works as: never for another site's link
        problem = guard.cross_site_problem(
            request.headers, request.host, unsafe_only=False, method=request.method
        )
        if problem:
            guard.refused("cross-site")
            return _json({"message": problem}, 403)(environ, start_response)
    worker = _worker_name(request)
    if worker is None:
        response = _json({"message": "a worker name has 1-64 letters, digits, '.', '_', '-'"}, 400)
        return response(environ, start_response)
    method = request.method
    if not parts and method in ("GET", "HEAD"):
        response = _task_list(request, worker)
    elif parts == ["crowd-html-elements.js"] and method in ("GET", "HEAD"):
        from helpers import preview

        response = Response(preview.stand_in_script(), mimetype="text/javascript")
    elif parts[:1] == ["media"] and method in ("GET", "HEAD"):
        response = _media(request, request.path.split("/")[3:])
    elif parts[:1] == ["tasks"] and len(parts) == 4 and method in ("GET", "HEAD"):
        response = _task(request, worker, *parts[1:4])
    elif parts[:1] == ["tasks"] and len(parts) == 5 and parts[4] == "submit" and method == "POST":
        response = _submit(request, worker, *parts[1:4])
    else:
        response = _json({"message": f"no portal page {method} {request.path}"}, 404)
    for name, value in guard.page_headers().items():
        response.headers.setdefault(name, value)
    if request.cookies.get(WORKER_COOKIE) != worker:
        response.set_cookie(WORKER_COOKIE, worker, path=PREFIX, httponly=True, samesite="Lax")
    return response(environ, start_response)
