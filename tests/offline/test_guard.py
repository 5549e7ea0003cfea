"""The stand-in and the preview as web servers: Host, other sites, secret, bodies, values.

Raw HTTP (http.client) so the tests can send what a browser or an attacker sends: any Host,
Origin or Sec-Fetch-Site header, a lying Content-Length, a body 10 000 levels deep.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.core.base_backend import BackendDict

from helpers import preview
from helpers.offline import OfflineSettings, faults, guard, portal, start_server
from helpers.offline import settings as offline_settings
from helpers.offline.control import ControlError

ROOT = Path(__file__).resolve().parents[2]
DEEP = b"[" * 10_000 + b"]" * 10_000


@pytest.fixture
def server(tmp_path, use_stand_in):
    handle = start_server(OfflineSettings.instant(auto_review="off"), port=0)
    use_stand_in(handle)
    try:
        yield handle
    finally:
        BackendDict.reset()
        handle.stop()


def send(port, method, path, body=b"", headers=None, host=None):
    """One raw request; returns (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host or f"127.0.0.1:{port}")
        headers = dict(headers or {})
        if body is not None and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def control(server, method, route, body=None, **headers):
    data = json.dumps(body).encode() if not isinstance(body, bytes) and body is not None else body
    headers.setdefault("X-Kit-Secret", server.secret)
    return send(server.port, method, "/_kit/" + route, data or b"", headers)


# --- Host header (DNS rebinding) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "host, ok",
    [
        ("127.0.0.1:4566", True),
        ("localhost:4566", True),
        ("portal.localhost:4566", True),
        ("[::1]:4566", True),
        ("127.0.0.2", True),
        ("evil.example:4566", False),
        ("localhost.evil.example", False),
        ("192.168.1.20:4566", False),
        ("", False),
    ],
)
def test_host_must_be_a_loopback_name(host, ok):
    assert (guard.host_problem(host) is None) is ok


def test_a_rebound_host_is_refused_everywhere(server):
    for path in ("/", "/_portal/", "/_kit/health", "/moto-api/reset"):
        status, _, body = send(server.port, "GET", path, host="attacker.example")
        assert status == 403 and b"loopback" in body, path
    assert send(server.port, "GET", "/_kit/health", host=f"localhost:{server.port}")[0] == 200


# --- other sites, the secret, CORS ---------------------------------------------------------------


def test_controls_need_the_secret_and_refuse_other_sites(server, reliability):
    before = server.settings.to_dict()
    assert control(server, "POST", "settings", {"job_seconds": 9}, **{"X-Kit-Secret": ""})[0] == 403
    assert (
        control(server, "POST", "settings", {"job_seconds": 9}, **{"X-Kit-Secret": "nope"})[0]
        == 403
    )
    other = {"Origin": "http://127.0.0.1:8888"}
    assert control(server, "POST", "settings", {"job_seconds": 9}, **other)[0] == 403
    site = {"Sec-Fetch-Site": "same-site"}
    assert control(server, "POST", "faults", {"fail_jobs": 1}, **site)[0] == 403
    assert control(server, "GET", "settings", **{"X-Kit-Secret": ""})[0] == 403
    assert server.settings.to_dict() == before and faults.active()["fail_jobs"] == 0
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="kept")
    assert send(server.port, "POST", "/moto-api/reset")[0] == 403
    assert send(server.port, "POST", "/moto-api/reset", headers=other)[0] == 403
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["kept"]
    # the kit's own clients carry it; the same origin may send it
    same = {"Origin": server.endpoint, "Sec-Fetch-Site": "same-origin"}
    assert control(server, "POST", "settings", {"job_seconds": 9}, **same)[0] == 200
    assert server.control("POST", "faults", {"fail_jobs": 1})["active"]["fail_jobs"] == 1
    assert send(server.port, "GET", "/_kit/health")[0] == 200  # the one open endpoint
    reliability["cross-site requests refused"] += 7


def test_the_aws_endpoint_answers_no_other_origin(server):
    boto3.client("s3").create_bucket(Bucket="private")
    preflight = {
        "Origin": "http://127.0.0.1:9999",
        "Access-Control-Request-Method": "GET",
        "Sec-Fetch-Site": "same-site",
    }
    status, headers, _ = send(server.port, "OPTIONS", "/private", headers=preflight)
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    status, headers, _ = send(server.port, "GET", "/", headers={"Origin": "http://evil.example"})
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    # boto3-like requests (no Origin) are served, without moto's reflected CORS headers
    status, headers, _ = send(server.port, "GET", "/private")
    assert status == 200 and not any(k.lower().startswith("access-control") for k in headers)
    # an object read straight from S3 on the portal's origin never runs either
    s3 = boto3.client("s3")
    s3.put_object(Bucket="private", Key="a.html", Body=b"<script>1</script>")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "private", "Key": "a.html"})
    status, headers, body = send(server.port, "GET", url[len(server.endpoint) :])
    assert status == 200, body
    assert headers["Content-Security-Policy"].startswith("sandbox")
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_portal_posts_from_other_sites_are_refused_but_links_work(server):
    path = portal.task_path("123456789012", "us-east-1", "any") + "/submit"
    body = json.dumps({"answerContent": {"review": "forged"}}).encode()
    for headers in (
        {"Origin": "http://127.0.0.1:8888", "Content-Type": "text/plain"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
    ):
        assert send(server.port, "POST", path, body, headers)[0] == 403, headers
    # a link from another site opens the task list, but may not switch the worker
    link = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"}
    assert send(server.port, "GET", "/_portal/", headers=link)[0] == 200
    assert send(server.port, "GET", "/_portal/?worker=mallory", headers=link)[0] == 403
    own = {"Sec-Fetch-Site": "same-origin"}
    assert send(server.port, "GET", "/_portal/?worker=alice", headers=own)[0] == 200


# --- pages, cookie, media ----------------------------------------------------------------------


def test_pages_carry_csp_nosniff_frame_ancestors_and_an_httponly_cookie(server):
    status, headers, _ = send(server.port, "GET", "/_portal/?worker=alice")
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_reviewer_page_csp_allows_its_own_script_by_hash():
    template = preview.load_template()
    hashes = guard.script_hashes(template)
    assert hashes and all(h.startswith("'sha256-") for h in hashes)
    csp = guard.page_csp(template)
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert guard.script_hashes("<script>var a = {{ task.input | to_json }};</script>") is None
    assert "'unsafe-inline'" in guard.page_csp("<script>{{ x }}</script>")


def test_media_is_sandboxed_and_active_types_are_attachments(server, fixture_video):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="media")
    s3.put_object(Bucket="media", Key="v.mp4", Body=fixture_video, ContentType="video/mp4")
    s3.put_object(Bucket="media", Key="p.html", Body=b"<script>alert(1)</script>")
    s3.put_object(Bucket="media", Key="i.svg", Body=b"<svg/>", ContentType="image/svg+xml")
    video = portal.media_path("123456789012", "media", "v.mp4")
    status, headers, body = send(server.port, "GET", video, headers={"Range": "bytes=0-9"})
    assert status == 206 and len(body) == 10 and headers["Content-Type"] == "video/mp4"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("sandbox")
    assert "Content-Disposition" not in headers
    for key in ("p.html", "i.svg"):
        status, headers, _ = send(
            server.port, "GET", portal.media_path("123456789012", "media", key)
        )
        assert status == 200 and headers["Content-Disposition"] == "attachment", key
        assert headers["Content-Security-Policy"].startswith("sandbox")
        assert headers["Cross-Origin-Resource-Policy"] == "same-origin"


# --- bodies ------------------------------------------------------------------------------------


def test_bodies_over_their_limit_answer_413(server, reliability):
    huge = b'{"answerContent": {"review": "' + b"x" * (8 * 1024 * 1024) + b'"}}'
    path = portal.task_path("123456789012", "us-east-1", "any") + "/submit"
    assert send(server.port, "POST", path, huge)[0] == 413
    big = b'{"job_seconds": 1, "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert control(server, "POST", "settings", big)[0] == 413
    # a Content-Length that announces too much is refused before the body is read
    assert control(server, "POST", "faults", b"", **{"Content-Length": str(2**40)})[0] == 413
    for length in ("abc", "-5", "1e3"):
        assert control(server, "POST", "faults", b"", **{"Content-Length": length})[0] == 400
    assert send(server.port, "GET", "/_kit/health")[0] == 200  # still serving
    reliability["bad inputs rejected"] += 6


def test_deeply_nested_json_is_400_not_500(server):
    path = portal.task_path("123456789012", "us-east-1", "any") + "/submit"
    assert send(server.port, "POST", path, DEEP)[0] == 400
    assert send(server.port, "POST", path, b'{"answerContent": {"a": NaN}}')[0] == 400
    for route in ("settings", "faults", "advance"):
        status, _, body = control(server, "POST", route, DEEP)
        assert status == 400 and b"nested" in body, route
    with pytest.raises(guard.BadBody):
        guard.parse_json(DEEP)
    assert guard.parse_json(b'{"a": [[{"b": 1}]]}') == {"a": [[{"b": 1}]]}


# --- control values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"seconds": "nan"}',
        b'{"seconds": NaN}',
        b'{"seconds": Infinity}',
        b'{"seconds": 1e999}',
        b'{"seconds": -5}',
        b'{"seconds": true}',
        b'{"seconds": "10"}',
        b"{}",
        b"[1]",
    ],
)
def test_the_clock_refuses_bad_seconds_and_stays_usable(server, body, reliability):
    before = offline_settings.now()
    status, _, answer = control(server, "POST", "advance", body)
    assert status == 400, answer
    after = offline_settings.now()
    assert 0 <= (after - before).total_seconds() < 5
    assert server.control("POST", "advance", {"seconds": 1})["now"]
    boto3.client("s3").list_buckets()  # every later call still answers
    reliability["bad inputs rejected"] += 1


@pytest.mark.parametrize(
    "changes",
    [
        {"job_seconds": "nan"},
        {"job_seconds": "inf"},
        {"job_seconds": -1},
        {"answer_after_describes": 1e999},
        {"max_concurrent_jobs": 0},
        {"job_seconds": 5, "segment_gap_ms": -3},
        {"recordings_dir": 5},
    ],
)
def test_settings_refuse_bad_values_and_change_nothing(server, changes):
    before = server.settings.to_dict()
    status, _, _ = control(server, "POST", "settings", changes)
    assert status == 400
    assert server.settings.to_dict() == before


@pytest.mark.parametrize(
    "request_body",
    [
        {"fail_jobs": 2, "throttle": {"StartHumanLoop": -1}},
        {"fail_jobs": 2, "drop_outputs": "nan"},
        {"fail_jobs": 2, "loops": {"outcome": "Failed", "count": 1.5}},
        {"fail_jobs": 2, "deny_uploads": True},
        {"fail_jobs": 2, "nonsense": 1},
        {"fail_jobs": 2, "loops": "Failed"},
    ],
)
def test_a_fault_request_is_armed_whole_or_not_at_all(server, request_body):
    status, _, _ = control(server, "POST", "faults", request_body)
    assert status == 400
    assert faults.active() == faults.active() | {"fail_jobs": 0, "throttle": {}}
    with pytest.raises(ValueError):
        faults.inject(**request_body)
    assert faults.active()["fail_jobs"] == 0


def test_the_control_client_reports_refusals(server):
    with pytest.raises(ControlError) as caught:
        server.control("POST", "advance", {"seconds": -1})
    assert caught.value.status == 400
    from helpers.offline import control as client

    with pytest.raises(ControlError) as caught:
        client.call("GET", "settings", endpoint=server.endpoint, secret="wrong")
    assert caught.value.status == 403


# --- the preview server ------------------------------------------------------------------------


@pytest.fixture
def preview_server():
    uri = "s3://local-preview/moderation-sample.mp4"
    with preview.serve(preview.sample_input(uri), {uri: preview.SAMPLE_VIDEO}) as server:
        yield server


def test_the_preview_survives_malformed_headers_and_refuses_other_sites(preview_server):
    port = preview_server.port
    answer = json.dumps({"answerContent": {"review": "{}"}}).encode()
    for length in ("abc", "-5", "", "99999999999"):
        status, _, _ = send(port, "POST", "/answers", b"", {"Content-Length": length})
        assert status in (400, 413) if length else status == 400, length
    assert send(port, "POST", "/answers", DEEP)[0] == 400
    assert send(port, "POST", "/answers", answer, {"Origin": "http://127.0.0.1:1"})[0] == 403
    assert send(port, "POST", "/answers", answer, {"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert send(port, "GET", "/", host="rebound.example")[0] == 403
    assert preview_server.answers == []
    status, headers, _ = send(port, "GET", "/")
    assert status == 200 and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "'sha256-" in headers["Content-Security-Policy"]
    assert send(port, "POST", "/answers", answer, {"Origin": f"http://127.0.0.1:{port}"})[0] == 200
    assert preview_server.answers == [{"review": "{}"}]
    # a request line http.server cannot parse is answered, and the server goes on
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"GARBAGE\r\n\r\n")
        assert b"Bad request" in raw.recv(200)
    assert send(port, "GET", "/crowd-html-elements.js")[0] == 200


# --- a second `make lab` -----------------------------------------------------------------------


def test_check_port_refuses_a_taken_port_and_changes_nothing(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "helpers.offline", "check-port", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert "in use" in result.stderr and "Nothing was changed" in result.stderr
        served = subprocess.run(
            [sys.executable, "-m", "helpers.offline", "serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        )
        assert served.returncode == 1 and "Traceback" not in served.stderr
    free = subprocess.run(
        [sys.executable, "-m", "helpers.offline", "check-port", "--port", str(port)],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert free.returncode == 0


def test_a_second_make_lab_leaves_the_first_labs_files(tmp_path):
    kit = ROOT / ".kit"
    watched = [kit / "offline.env", kit / "offline-run.json"]
    before = {p: p.stat().st_mtime_ns if p.exists() else None for p in watched}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["make", "-s", "-o", ".venv/.installed", "lab", f"LAB_PORT={port}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert "in use" in result.stderr
    assert {p: p.stat().st_mtime_ns if p.exists() else None for p in watched} == before


def test_deep_json_to_the_aws_endpoint_is_a_serialization_error(server):
    signed = (
        "AWS4-HMAC-SHA256 Credential=ASIAVMKOFFLINE000001/20240101/us-east-1/sagemaker/"
        "aws4_request, SignedHeaders=host, Signature=0"
    )
    body = b'{"WorkteamName": ' + DEEP + b"}"
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "SageMaker.DescribeWorkteam",
        "Authorization": signed,
    }
    status, _, answer = send(server.port, "POST", "/", body, headers)
    assert status == 400 and json.loads(answer)["__type"] == "SerializationException"
    headers = {"Content-Type": "application/json", "Authorization": signed}
    assert send(server.port, "POST", "/human-loops", body, headers)[0] == 400
    sm = boto3.client("sagemaker")
    assert sm.list_workteams()["Workteams"]  # the endpoint goes on serving


def test_the_preview_on_a_taken_port_says_so():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "helpers.preview", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_chunked_control_bodies_are_held_to_the_limit(server):
    def chunked(body: bytes):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            headers = {"X-Kit-Secret": server.secret, "Transfer-Encoding": "chunked"}
            chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
            connection.request("POST", "/_kit/settings", chunks, headers, encode_chunked=True)
            return connection.getresponse().status
        finally:
            connection.close()

    assert chunked(b'{"job_seconds": 4}') == 200
    assert server.settings.job_seconds == 4
    assert chunked(b'{"job_seconds": 5, "pad": "' + b"x" * (1024 * 1024) + b'"}') == 413
    assert server.settings.job_seconds == 4
