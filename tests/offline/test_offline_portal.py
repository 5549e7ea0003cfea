"""The offline worker portal over HTTP: task list, task page, media with Range, submit."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime

import boto3
import pytest
from moto.core.base_backend import BackendDict

from conftest import BUCKET, KEY
from helpers import answers, review
from helpers.offline import a2i_runtime, portal, start_server

UI = (
    '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>'
    '<crowd-form><h1 id="t">{{ task.input.video.title }}</h1>'
    '<video><source src="{{ task.input.video.s3_uri | grant_read_access }}" type="video/mp4">'
    '</video><input type="hidden" name="review"></crowd-form>'
)


@pytest.fixture
def server(offline_settings, tmp_path, monkeypatch, use_stand_in):
    offline_settings.auto_review = "off"
    handle = start_server(offline_settings, port=0)
    use_stand_in(handle)
    try:
        yield handle
    finally:
        BackendDict.reset()  # leave nothing for later tests (moto's state is per process)
        handle.stop()


class Browser:
    """An HTTP client with its own cookies (one signed-in worker)."""

    def __init__(self, server, worker=None):
        self.base = server.endpoint
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        if worker:
            self.get(f"/_portal/?worker={worker}")

    def request(self, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def get(self, path, **headers):
        return self.request(path, headers=headers)

    def post(self, path, body):
        status, _, raw = self.request(path, body, {"Content-Type": "application/json"})
        return status, json.loads(raw)


def make_loop(
    fixture_video, input_content, *, task_count=1, time_limit=None, title="Review flagged moments"
):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=fixture_video, ContentType="video/mp4")
    sm = boto3.client("sagemaker")
    team = sm.list_workteams()["Workteams"][0]["WorkteamArn"]
    ui = sm.create_human_task_ui(HumanTaskUiName="vmk-ui", UiTemplate={"Content": UI})
    role = boto3.client("iam").get_role(RoleName="VideoModerationKitNotebookRole")["Role"]["Arn"]
    config = {
        "WorkteamArn": team,
        "HumanTaskUiArn": ui["HumanTaskUiArn"],
        "TaskTitle": title,
        "TaskDescription": "Give a verdict on every item",
        "TaskCount": task_count,
    }
    if time_limit:
        config["TaskTimeLimitInSeconds"] = time_limit
    flow = sm.create_flow_definition(
        FlowDefinitionName="vmk-flow",
        HumanLoopConfig=config,
        OutputConfig={"S3OutputPath": f"s3://{BUCKET}/out"},
        RoleArn=role,
    )["FlowDefinitionArn"]
    a2i = boto3.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=flow,
        HumanLoopInput={"InputContent": input_content(3)},
    )
    return a2i


def page_answer(input_text):
    items = json.loads(input_text)["items"]
    doc = answers.review_document(
        [answers.answer_item(i["id"], "violation", note="seen in the portal") for i in items]
    )
    return answers.answer_content(doc)


def task_path(name="vmk-loop"):
    return f"/_portal/tasks/123456789012/us-east-1/{name}"


def read_output(a2i, name="vmk-loop"):
    uri = a2i.describe_human_loop(HumanLoopName=name)["HumanLoopOutput"]["OutputS3Uri"]
    bucket, key = uri[len("s3://") :].split("/", 1)
    return json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_workteam_subdomain_points_at_the_portal_while_the_server_runs(server, offline_settings):
    sm = boto3.client("sagemaker")
    team = sm.list_workteams()["Workteams"][0]
    sub = sm.describe_workteam(WorkteamName=team["WorkteamName"])["Workteam"]["SubDomain"]
    assert sub == f"worker-portal.localhost:{server.port}" == server.portal_host  # a host name
    assert review.worker_portal_url(sm, team) == f"http://{sub}"  # loopback: plain HTTP
    status, _, body = Browser(server).get("/_portal/")
    assert status == 200 and b"No open tasks" in body
    server.stop()
    assert offline_settings.workteam_subdomain is None and portal.base_url() is None


def test_the_url_form_of_the_subdomain_is_still_available(offline_settings, use_stand_in):
    offline_settings.workteam_subdomain = "url"
    with start_server(offline_settings, port=0) as handle:
        use_stand_in(handle)
        sm = handle.client("sagemaker")
        team = sm.list_workteams()["Workteams"][0]
        sub = sm.describe_workteam(WorkteamName=team["WorkteamName"])["Workteam"]["SubDomain"]
        assert sub == f"http://127.0.0.1:{handle.port}/_portal/" == handle.portal_url
        assert review.worker_portal_url(sm, team) == handle.portal_url
    assert offline_settings.workteam_subdomain == "url"


def test_a_server_on_another_address_reports_the_url(offline_settings, monkeypatch):
    """*.localhost reaches only a server on loopback: on a specific other address (a LAN
    room's `--host 192.168.1.5`) the default SubDomain is the portal's URL there."""
    from helpers.offline import server as server_module

    monkeypatch.setattr(server_module.guard, "is_loopback_name", lambda host: False)
    with start_server(offline_settings, port=0) as handle:
        assert handle.settings.workteam_subdomain == handle.portal_url
    assert offline_settings.workteam_subdomain is None


def test_an_explicit_subdomain_wins(offline_settings):
    offline_settings.workteam_subdomain = "portal.example.test"
    with start_server(offline_settings, port=0) as handle:
        assert handle.settings.workteam_subdomain == "portal.example.test"
    assert offline_settings.workteam_subdomain == "portal.example.test"


def test_task_list_page_and_media(server, fixture_video, input_content):
    make_loop(fixture_video, input_content)
    browser = Browser(server)
    status, _, body = browser.get("/_portal/")
    listing = body.decode()
    assert status == 200 and "Review flagged moments" in listing
    assert f"href='{task_path()}'" in listing and "0 of 1" in listing

    status, headers, body = browser.get(task_path())
    page = body.decode()
    assert status == 200 and "text/html" in headers["Content-Type"]
    assert '<h1 id="t">t</h1>' in page
    assert "assets.crowd.aws" not in page
    assert (
        '<script src="/_portal/crowd-html-elements.js" '
        f'data-submit-url="{task_path()}/submit" data-done-url="/_portal/?submitted=vmk-loop">'
    ) in page
    media = re.search(r'<source src="([^"]+)" type="video/mp4">', page).group(1)
    assert media == f"/_portal/media/123456789012/{BUCKET}/{KEY}"

    status, headers, body = browser.get(media, Range="bytes=0-15")
    assert status == 206 and body == fixture_video[:16]
    assert headers["Content-Range"] == f"bytes 0-15/{len(fixture_video)}"
    assert headers["Content-Type"] == "video/mp4"
    status, _, body = browser.get(media)
    assert status == 200 and body == fixture_video
    assert browser.get(media, Range=f"bytes={len(fixture_video)}-")[0] == 416
    assert browser.get(f"/_portal/media/123456789012/{BUCKET}/nope.mp4")[0] == 404
    status, _, body = browser.get("/_portal/crowd-html-elements.js")
    assert status == 200 and b"crowdStandIn" in body


def test_submit_completes_the_loop_with_a2is_output(server, fixture_video, input_content):
    a2i = make_loop(fixture_video, input_content)
    browser = Browser(server, worker="ana")
    status, _, _ = browser.get(task_path())
    assert status == 200
    content = page_answer(input_content(3))
    status, body = browser.post(task_path() + "/submit", {"answerContent": content})
    assert status == 200 and body["humanLoopStatus"] == "Completed"
    document = read_output(a2i)
    [answer] = document["humanAnswers"]
    assert answer["answerContent"] == content
    assert list(answer) == [
        "acceptanceTime",
        "answerContent",
        "submissionTime",
        "timeSpentInSeconds",
        "workerId",
        "workerMetadata",
    ]
    accepted = datetime.fromisoformat(answer["acceptanceTime"].replace("Z", "+00:00"))
    submitted = datetime.fromisoformat(answer["submissionTime"].replace("Z", "+00:00"))
    assert accepted <= submitted
    spent = (submitted - accepted).total_seconds()  # from times rounded to milliseconds
    assert answer["timeSpentInSeconds"] == pytest.approx(spent, abs=0.002)
    assert (
        answer["workerId"]
        == body["workerId"]
        == portal.portal_worker("123456789012", "us-east-1", "ana").worker_id
    )
    identity = answer["workerMetadata"]["identityData"]
    assert identity["identityProviderType"] == "Cognito"
    assert identity["issuer"].startswith("https://cognito-idp.us-east-1.amazonaws.com/")
    frame = review.answers_frame(document)
    assert set(frame["verdict"]) == {"violation"} and len(frame) == 3

    status, body = browser.post(task_path() + "/submit", {"answerContent": content})
    assert status == 409 and "Completed" in body["message"]
    assert b"No open tasks" in browser.get("/_portal/")[2]
    assert browser.get(task_path())[0] == 409


def test_bad_submissions_are_refused(server, fixture_video, input_content):
    make_loop(fixture_video, input_content)
    browser = Browser(server)
    assert browser.post(task_path() + "/submit", {"answer": {}})[0] == 400
    assert browser.post(task_path("vmk-nope") + "/submit", {"answerContent": {}})[0] == 404
    assert browser.get(task_path("vmk-nope"))[0] == 404
    assert browser.get("/_portal/?worker=bad%20name")[0] == 400
    assert browser.get("/_portal/nothing/here")[0] == 404


def test_task_count_two_needs_two_workers(server, fixture_video, input_content):
    a2i = make_loop(fixture_video, input_content, task_count=2)
    content = page_answer(input_content(3))
    first, second = Browser(server, worker="ana"), Browser(server, worker="ben")
    assert first.post(task_path() + "/submit", {"answerContent": content})[1][
        "humanLoopStatus"
    ] == ("InProgress")
    assert task_path() not in first.get("/_portal/")[2].decode()
    assert task_path() in second.get("/_portal/")[2].decode()
    status, body = first.post(task_path() + "/submit", {"answerContent": content})
    assert status == 409 and "already answered" in body["message"]
    assert second.post(task_path() + "/submit", {"answerContent": content})[1][
        "humanLoopStatus"
    ] == ("Completed")
    workers = [a["workerId"] for a in read_output(a2i)["humanAnswers"]]
    assert len(set(workers)) == 2


def test_the_time_limit_runs_from_opening_the_task(server, fixture_video, input_content):
    make_loop(fixture_video, input_content, time_limit=60)
    browser = Browser(server)
    browser.get(task_path())
    server.control("POST", "advance", {"seconds": 61})
    status, body = browser.post(
        task_path() + "/submit", {"answerContent": page_answer(input_content(3))}
    )
    assert status == 409 and "time limit (60 s)" in body["message"]
    browser.get(task_path())
    status, body = browser.post(
        task_path() + "/submit", {"answerContent": page_answer(input_content(3))}
    )
    assert status == 200


def test_auto_reviewer_answers_through_the_portal_path(server, fixture_video, input_content):
    calls = []
    # one submit path: the portal's Submit and the auto reviewer call the A2I runtime's
    assert portal.submit_task is a2i_runtime.submit_task
    original = a2i_runtime.submit_task

    def spy(*args, **kwargs):
        calls.append(args[2])
        return original(*args, **kwargs)

    server.settings.auto_review = "confirm"
    server.settings.answer_after_describes = 0
    a2i = make_loop(fixture_video, input_content)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(a2i_runtime, "submit_task", spy)
        assert a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopStatus"] == "Completed"
    [content] = calls
    document = read_output(a2i)
    assert document["humanAnswers"][0]["answerContent"] == content
    doc = answers.parse_answer_content(content, json.loads(input_content(3))["items"])
    assert all(tuple(item) == answers.ITEM_FIELDS for item in doc["items"])


def test_portal_task_list_spans_flow_definitions(aws, make_flow, input_content):
    a2i = aws.client("sagemaker-a2i-runtime")
    aws.settings.auto_review = "off"
    for name in ("vmk-flow-a", "vmk-flow-b"):
        flow = make_flow(name)["flow"]
        a2i.start_human_loop(
            HumanLoopName=f"loop-{name[-1]}",
            FlowDefinitionArn=flow,
            HumanLoopInput={"InputContent": input_content(2)},
        )
    a2i.stop_human_loop(HumanLoopName="loop-a")
    tasks = portal.open_tasks("reviewer")
    assert [t["loop"] for t in tasks] == ["loop-b"]
    assert tasks[0]["items"] == 2 and tasks[0]["task_count"] == 1
    backend = a2i_runtime.a2i_runtime_backends[aws.account_id][aws.region]
    assert portal.find_loop(aws.account_id, aws.region, "loop-b")[1] is backend.loop("loop-b")


def test_portal_pages_escape_what_they_show(server, fixture_video, input_content):
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    make_loop(fixture_video, input_content, title=hostile)
    browser = Browser(server)
    listing = browser.get("/_portal/?submitted=" + urllib.parse.quote(hostile))[2].decode()
    task = browser.get(task_path())[2].decode()
    for page in (listing, task):
        assert hostile not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page


def test_the_cors_rule_names_the_portals_origin(server):
    from helpers import cors

    sm = boto3.client("sagemaker")
    portal = review.worker_portal_url(sm, review.find_workteam(sm))
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    rule = cors.allow_portal(s3, BUCKET, portal)
    assert rule["AllowedOrigins"][0] == f"http://{server.portal_host}"  # the portal's origin
    url_rule = cors.allow_portal(s3, BUCKET, server.portal_url)
    assert url_rule["AllowedOrigins"][0] == server.endpoint  # no /_portal/ path in an origin


def test_serve_prints_the_portal_link_a_browser_opens(offline_settings):
    """`python -m helpers.offline serve` prints the http:// link of the host name (what
    `worker_portal_url` gives), says https:// does not work, and names the 127.0.0.1 fallback."""
    from helpers.offline.__main__ import portal_lines

    with start_server(offline_settings, port=0) as handle:
        lines = portal_lines(handle)
        assert lines[0] == f"Worker portal: http://worker-portal.localhost:{handle.port}/"
        text = "\n".join(lines)
        assert "not https://" in text and handle.portal_url in text
    offline_settings.workteam_subdomain = "url"
    with start_server(offline_settings, port=0) as handle:
        assert portal_lines(handle) == [
            f"Worker portal (the work team's SubDomain): {handle.portal_url}"
        ]
