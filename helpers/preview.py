"""Render the reviewer's page locally, the way A2I renders it, and serve it to a browser.

A2I renders worker task templates with Liquid, autoescape on, and three extra filters:
``grant_read_access`` (S3 URI → short-lived HTTPS URL), ``to_json`` and ``skip_autoescape``.
Rendering locally catches template errors before a reviewer sees a blank page; SageMaker's
RenderUiTemplate is the check on AWS (:func:`render_on_aws`).

A rendered page loads ``https://assets.crowd.aws/crowd-html-elements.js``, which cannot be
fetched offline. :func:`local_page` replaces that one ``<script>`` tag with the kit's local
stand-in (``helpers/offline/static/crowd-html-elements.js``), which answers with the shapes AWS
documents. :func:`serve` runs a small local server for the page, the stand-in and the video;
it answers HTTP Range requests, without which Chromium cannot seek in an MP4::

    python -m helpers.preview            # the sample video with a few flagged items
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import logging
import mimetypes
import re
import sys
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from helpers import answers
from helpers.review import load_template

if TYPE_CHECKING:
    from liquid import Environment

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
#: The script A2I's worker portal provides, and the kit's local stand-in for it.
CROWD_SCRIPT_URL = "https://assets.crowd.aws/crowd-html-elements.js"
CROWD_STAND_IN = Path(__file__).resolve().parent / "offline" / "static" / "crowd-html-elements.js"
SAMPLE_VIDEO = ROOT / "datasets" / "media" / "moderation-sample.mp4"
_CROWD_TAG = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?" + re.escape(CROWD_SCRIPT_URL) + r"[\"']?[^>]*>\s*</script>",
    re.IGNORECASE,
)


def liquid_environment(grant_read_access: Callable[[str], str] | None = None) -> Environment:
    """A Liquid environment with A2I's filters, autoescape on and strict undefined variables."""
    # imported here: notebooks that only call AWS need not load Liquid
    from liquid import Environment, StrictUndefined
    from markupsafe import Markup

    env = Environment(autoescape=True, undefined=StrictUndefined)
    env.filters["to_json"] = lambda value: json.dumps(value)
    env.filters["skip_autoescape"] = lambda value: Markup(str(value))
    env.filters["grant_read_access"] = grant_read_access or (lambda uri: uri)
    return env


def presigner(s3: Any, expires: int = 3600) -> Callable[[str], str]:
    """A ``grant_read_access`` filter that presigns ``s3://bucket/key`` URIs with ``s3``."""

    def grant(uri: str) -> str:
        bucket, _, key = str(uri).removeprefix("s3://").partition("/")
        return s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
        )

    return grant


def render(
    task_input: dict[str, Any],
    template: str | None = None,
    grant_read_access: Callable[[str], str] | None = None,
) -> str:
    """The page a reviewer would get for ``task_input`` (the loop's input document)."""
    env = liquid_environment(grant_read_access)
    return env.from_string(template or load_template()).render(task={"input": task_input})


def local_page(
    page: str,
    script_src: str,
    *,
    submit_url: str | None = None,
    done_url: str | None = None,
) -> str:
    """``page`` with crowd-html-elements.js replaced by the local stand-in at ``script_src``.

    ``submit_url`` is where the stand-in POSTs ``{"answerContent": ...}`` on submit and
    ``done_url`` where the browser goes afterwards (see the stand-in's header). A page without
    the script gets the stand-in at its top.
    """
    attrs = f'src="{html.escape(script_src)}"'
    if submit_url:
        attrs += f' data-submit-url="{html.escape(submit_url)}"'
    if done_url:
        attrs += f' data-done-url="{html.escape(done_url)}"'
    tag = f"<script {attrs}></script>"
    replaced, count = _CROWD_TAG.subn(lambda _: tag, page, count=1)
    if count:
        return _CROWD_TAG.sub("", replaced)
    return tag + "\n" + page


def stand_in_script() -> bytes:
    """The local crowd-html-elements stand-in (JavaScript)."""
    return CROWD_STAND_IN.read_bytes()


# --- HTTP Range ---------------------------------------------------------------------------------


class RangeNotSatisfiable(ValueError):
    """A Range header that selects no byte of the resource (answer 416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` bytes a ``Range`` header asks for, or None for all.

    Supports one range (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``); a header the server may
    ignore (another unit, several ranges, bad syntax) gives None, i.e. the whole resource.
    Raises :class:`RangeNotSatisfiable` when the range starts past the end.
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash or not (first_text.isdigit() or last_text.isdigit()):
        return None
    if not first_text:
        suffix = int(last_text)
        if suffix == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text.isdigit() else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        raise RangeNotSatisfiable(header)
    return first, min(last, size - 1)


def range_response(data: bytes, header: str | None) -> tuple[int, dict[str, str], bytes]:
    """``(status, headers, body)`` answering a GET for ``data`` with ``Range: header``."""
    size = len(data)
    base = {"Accept-Ranges": "bytes"}
    try:
        chosen = byte_range(header, size)
    except RangeNotSatisfiable:
        return 416, {**base, "Content-Range": f"bytes */{size}", "Content-Length": "0"}, b""
    if chosen is None:
        return 200, {**base, "Content-Length": str(size)}, data
    first, last = chosen
    headers = {
        **base,
        "Content-Range": f"bytes {first}-{last}/{size}",
        "Content-Length": str(last - first + 1),
    }
    return 206, headers, data[first : last + 1]


# --- a sample task ------------------------------------------------------------------------------


SAMPLE_SCENES = ROOT / "datasets" / "sample_scenes.json"
#: An interval shorter than this becomes a single moment in the sample review.
_MOMENT_BELOW_MS = 1500
#: How often the sample's items say Rekognition sampled a label (ms).
_SAMPLE_EVERY_MS = 500


def _scene_items(duration_ms: int) -> list[dict[str, Any]]:
    """One review item per label interval of the sample video's scene list, on its scene.

    Each interval of ``datasets/sample_scenes.json`` (when the label is in view) becomes an item
    with its peak at the interval's middle (where the scene list puts the peak confidence) and a
    detection every 500 ms; an interval shorter than 1.5 s becomes a single moment there.
    """
    from helpers import taxonomy

    scenes = json.loads(SAMPLE_SCENES.read_text(encoding="utf-8"))["scenes"]
    items = []
    for scene in scenes:
        for spec in scene.get("labels", []):
            name, at_level = spec["name"], spec.get("level")
            intervals = spec.get("on") or [[scene["start_s"], scene["end_s"]]]
            for first, last in intervals:
                start, end = round(first * 1000), round(last * 1000)
                peak = (start + end) // 2
                if end - start < _MOMENT_BELOW_MS:
                    start = end = peak
                if end > duration_ms:
                    continue
                times = list(range(start, end + 1, _SAMPLE_EVERY_MS)) or [start]
                items.append(
                    {
                        "label": name,
                        "parent": taxonomy.parent(name, at_level),
                        "category": taxonomy.top_level(name, at_level),
                        "start_ms": start,
                        "end_ms": end,
                        "confidence": float(spec["peak"]),
                        "detections": len(times),
                        "peak_ms": peak,
                        "detections_ms": times,
                        "scene": scene["id"],
                    }
                )
    items.sort(key=lambda item: (item["start_ms"], item["label"]))
    return items


def sample_input(
    video_s3_uri: str,
    title: str = "Moderation sample",
    duration_ms: int = 54_000,
    rules: str = "lab-v7",
) -> dict[str, Any]:
    """A small ``vmk-input/1`` document for previews: the sample video's labelled moments.

    Its items come from the sample video's scene list (``datasets/sample_scenes.json``), so each
    lands on its scene: segments, single moments and nested labels, each with its peak and its
    detections. RenderUiTemplate takes at most 128,000 characters of input, so checks use this
    rather than a whole review.
    """
    end = max(int(duration_ms), 3000)
    items = _scene_items(end)
    return {
        "schema": answers.INPUT_SCHEMA,
        "video": {"title": title, "s3_uri": video_s3_uri, "duration_ms": end},
        "items": [
            {"id": f"i-sample-{n}-{item.pop('scene')}", **item} for n, item in enumerate(items, 1)
        ],
        "rules": rules,
    }


def render_on_aws(
    sagemaker: Any, role_arn: str, task_input: dict[str, Any], *, task_ui_arn: str
) -> dict[str, Any]:
    """SageMaker RenderUiTemplate for a human task UI and a task input.

    Returns ``{"RenderedContent": str, "Errors": [{"Code", "Message"}]}``; an empty ``Errors``
    list means the template rendered. ``role_arn`` must be able to read the S3 objects the
    template grants access to.
    """
    response = sagemaker.render_ui_template(
        HumanTaskUiArn=task_ui_arn,
        Task={"Input": json.dumps(task_input)},
        RoleArn=role_arn,
    )
    return {"RenderedContent": response["RenderedContent"], "Errors": response["Errors"]}


# --- a local preview server ---------------------------------------------------------------------


class PreviewServer:
    """A running local preview (from :func:`serve`); also a context manager.

    Routes: ``/`` the page (rendered again on every load), ``/crowd-html-elements.js`` the
    stand-in, ``/media/<n>/<name>`` the files given as ``media`` (with Range support),
    ``POST /answers`` where the page's answer goes, ``GET /answers`` what was posted.
    """

    def __init__(
        self,
        task_input: dict[str, Any],
        media: Mapping[str, Path],
        template: str | None,
        host: str,
        port: int,
    ) -> None:
        self.task_input = task_input
        self.template = template
        self.media = {uri: Path(path) for uri, path in media.items()}
        self._paths = list(self.media.values())
        #: ``answerContent`` documents the page submitted, oldest first.
        self.answers: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_PreviewHandler,), {"preview": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="vmk-preview", daemon=True
        )
        self._thread.start()
        log.info("reviewer page preview at %s", self.url)

    def grant_read_access(self, uri: str) -> str:
        """The local URL of a media URI (an unknown URI gets a URL that answers 404)."""
        uri = str(uri)
        if uri in self.media:
            index = list(self.media).index(uri)
            return f"/media/{index}/{quote(self.media[uri].name)}"
        return "/media/unknown/" + quote(uri, safe="")

    def page(self) -> str:
        """The page as the browser gets it."""
        rendered = render(self.task_input, self.template, self.grant_read_access)
        return local_page(rendered, "/crowd-html-elements.js", submit_url="/answers")

    def media_bytes(self, index: int) -> bytes | None:
        if 0 <= index < len(self._paths):
            return self._paths[index].read_bytes()
        return None

    def record(self, answer: dict[str, Any]) -> None:
        with self._lock:
            self.answers.append(answer)

    def stop(self) -> None:
        """Stop serving."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> PreviewServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _PreviewHandler(BaseHTTPRequestHandler):
    """The preview's HTTP handler, with the stand-in's checks (:mod:`helpers.offline.guard`):
    a loopback Host, no request from another site acted on, bodies within limits, and CSP,
    ``nosniff`` and ``frame-ancestors`` on every answer."""

    preview: PreviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("preview: " + format, *args)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        from helpers.offline import guard

        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**guard.page_headers(), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _refused(self, unsafe_only: bool) -> bool:
        """Answer 403 and return True when the request must not be acted on."""
        from helpers.offline import guard

        host = self.headers.get("Host")
        problem = guard.host_problem(host, str(self.preview.host))
        kind = "host"
        if problem is None:
            kind = "cross-site"
            problem = guard.cross_site_problem(
                self.headers, host, unsafe_only=unsafe_only, method=self.command
            )
        if problem is None:
            return False
        guard.refused(kind)
        self.close_connection = True
        self._json({"message": problem}, 403)
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a malformed request line or header) answered as JSON."""
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may be gone
            self._json({"message": message or self.responses.get(code, ("error",))[0]}, code)

    def _json(self, payload: Any, status: int = 200) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        from helpers.offline import guard

        if self._refused(unsafe_only=True):
            return
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            try:
                page = self.preview.page()
            except Exception as err:  # shown to the person previewing, like a console error
                text = f"The template does not render: {type(err).__name__}: {err}"
                self._send(500, html.escape(text).encode(), "text/html; charset=utf-8")
                return
            csp = guard.page_headers(self.preview.template or load_template())
            self._send(200, page.encode(), "text/html; charset=utf-8", csp)
        elif path == "/crowd-html-elements.js":
            self._send(200, stand_in_script(), "text/javascript; charset=utf-8")
        elif path == "/answers":
            self._json(self.preview.answers)
        elif path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")
        elif path.startswith("/media/"):
            self._media(path)
        else:
            self._send(404, b"not found", "text/plain")

    def _media(self, path: str) -> None:
        parts = path.split("/")
        data = self.preview.media_bytes(int(parts[2])) if parts[2].isdigit() else None
        if data is None:
            uri = unquote(parts[-1]) if len(parts) > 3 else ""
            text = f"no local file for {uri!r}: pass it in serve(media={{uri: path}})"
            self._send(404, text.encode(), "text/plain; charset=utf-8")
            return
        kind = mimetypes.guess_type(parts[-1])[0] or "application/octet-stream"
        status, headers, body = range_response(data, self.headers.get("Range"))
        from helpers.offline import guard

        self.send_response(status)
        self.send_header("Content-Type", kind)
        for name, value in {**headers, **guard.media_headers(kind)}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self) -> None:
        from helpers.offline import guard

        if self._refused(unsafe_only=False):
            return
        try:
            length = guard.content_length(
                self.headers.get("Content-Length"), guard.MAX_ANSWER_BYTES
            )
        except guard.BadBody as err:
            guard.refused("body")
            self.close_connection = True  # the body, if any, is not read
            self._json({"message": str(err)}, err.status)
            return
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            self._json({"message": "send the answer with a Content-Length"}, 411)
            return
        data = self.rfile.read(length)
        if urlsplit(self.path).path != "/answers":
            self._send(404, b"not found", "text/plain")
            return
        try:
            body = guard.parse_json(data or b"null")
            content = body["answerContent"]
            if not isinstance(content, dict):
                raise TypeError("answerContent is not an object")
        except guard.BadBody as err:
            guard.refused("body")
            self._json({"message": f"send {{'answerContent': {{...}}}} ({err})"}, 400)
            return
        except (KeyError, TypeError) as err:
            self._json({"message": f"send {{'answerContent': {{...}}}} ({err})"}, 400)
            return
        self.preview.record(content)
        self._json({"message": "Answer recorded by the local preview (nothing was sent to AWS)."})


def serve(
    task_input: dict[str, Any],
    media: Mapping[str, str | Path] | None = None,
    *,
    template: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> PreviewServer:
    """Serve the reviewer's page for ``task_input`` on ``host:port`` (0: a free port).

    ``media`` maps the S3 URIs the input names to local files, which the page gets through
    ``grant_read_access`` as local URLs.
    """
    paths = {uri: Path(path) for uri, path in (media or {}).items()}
    return PreviewServer(task_input, paths, template, host, port)


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.preview``: preview the page with the sample video."""
    parser = argparse.ArgumentParser(description="Preview the reviewer's page locally.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    uri = "s3://local-preview/moderation-sample.mp4"
    try:
        server = serve(sample_input(uri), {uri: SAMPLE_VIDEO}, host=args.host, port=args.port)
    except OSError as error:  # the port is taken: say so, without a stack trace
        print(
            f"error: cannot listen on {args.host}:{args.port} ({error.strerror}); "
            "stop the other preview or pass --port",
            file=sys.stderr,
        )
        return 1
    print(f"Reviewer page preview: {server.url}  (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
