"""A whole review through the offline worker portal, in Chromium.

The stand-in server runs with the auto reviewer off. The test creates the kit's task UI, a flow
definition and a human loop on the sample video, opens the worker portal at the work team's
SubDomain, reviews every item with the keyboard and the mouse (a correction through the label
picker, an item's start moved to the playhead, a missed moment added), and submits. The loop
must end Completed with output.json's answerContent equal to what the page posted. A
screenshot of the task in the portal is kept in ``test-artifacts/portal-task.png``.
"""

from __future__ import annotations

import json
import re

import boto3
import pytest
from moto.core.base_backend import BackendDict
from test_reviewer_page import ITEMS, SAMPLE_URI, task_input, wait_time

from helpers import answers, preview, provision, review
from helpers.offline import OfflineSettings, portal, start_server

BUCKET, KEY = SAMPLE_URI[len("s3://") :].split("/", 1)


@pytest.fixture
def stand_in(tmp_path, monkeypatch, use_stand_in):
    settings = OfflineSettings(auto_review="off", job_seconds=0, flow_definition_seconds=0)
    server = start_server(settings, port=0)
    use_stand_in(server)
    try:
        yield server
    finally:
        BackendDict.reset()  # leave nothing for later tests (moto's state is per process)
        server.stop()


def start_loop(inputs=None):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(preview.SAMPLE_VIDEO), BUCKET, KEY, ExtraArgs={"ContentType": "video/mp4"})
    sm = boto3.client("sagemaker")
    team = review.find_workteam(sm)
    ui = review.ensure_task_ui(sm, "browser", review.load_template())
    role = boto3.client("iam").get_role(RoleName="VideoModerationKitNotebookRole")["Role"]["Arn"]
    config = review.flow_definition_config(
        workteam_arn=team["WorkteamArn"],
        task_ui_arn=ui,
        role_arn=role,
        output_path=f"s3://{BUCKET}/a2i-output",
    )
    flow = review.ensure_flow_definition(sm, "browser", config, timeout=30)
    a2i = boto3.client("sagemaker-a2i-runtime")
    if inputs is not None:
        for name, doc in inputs.items():
            a2i.start_human_loop(
                HumanLoopName=name,
                FlowDefinitionArn=flow["FlowDefinitionArn"],
                HumanLoopInput={"InputContent": json.dumps(doc)},
            )
        return a2i, None, review.worker_portal_url(sm, team)
    loop = review.start_human_loop(a2i, flow["FlowDefinitionArn"], "browser", task_input())
    return a2i, loop["HumanLoopName"], review.worker_portal_url(sm, team)


def test_the_task_list_names_the_video_the_part_the_age_and_the_time_limit(stand_in, page):
    inputs = {}
    for index in range(2):
        doc = task_input(ITEMS[index * 2 : index * 2 + 2], title="Beach day <b>raw</b>")
        doc["window"] = {"start_ms": index * 27000, "end_ms": 27000 + index * 27000}
        doc["window"].update(index=index, count=2)
        inputs[f"vmk-part-{index}"] = doc
    _, _, portal_url = start_loop(inputs)
    page.goto(portal_url)
    rows = page.locator("#portal-tasks tbody tr")
    assert rows.count() == 2
    texts = [rows.nth(n).locator("td").first.text_content() for n in range(2)]
    assert [t.startswith("Beach day <b>raw</b> part ") for t in texts] == [True, True]
    assert sorted("part 1 of 2" in t for t in texts) == [False, True]
    assert sorted("part 2 of 2" in t for t in texts) == [False, True]
    assert page.locator("#portal-tasks b").count() == 0  # the title is text
    ages = page.locator("#portal-tasks .portal-age").all_text_contents()
    assert all(re.match(r"\d+ s\d{4}-\d\d-\d\d ", age) for age in ages), ages
    limits = page.locator("#portal-tasks .portal-limit").all_text_contents()
    assert limits == ["1 h", "1 h"]  # A2I's default TaskTimeLimitInSeconds: 3,600 s


def test_a_full_review_through_the_portal_completes_the_loop(stand_in, page, artifacts):
    a2i, name, portal_url = start_loop()
    assert portal_url == f"http://{stand_in.portal_host}"  # the work team's SubDomain, http://
    page.goto(portal_url)
    assert page.text_content("#vmk-portal-worker") == "reviewer"
    page.click(f"#portal-tasks a[href$='/{name}']")
    page.wait_for_url(f"**/_portal/tasks/**/{name}")
    page.wait_for_function("(document.getElementById('vmk-video') || {}).readyState >= 2")
    assert page.text_content("#vmk-title") == "Moderation sample"
    page.click("#vmk-play")
    page.wait_for_function("document.getElementById('vmk-video').currentTime > 0.3")
    page.click("#vmk-play")

    keys = page.keyboard
    page.click("h2")
    for key in ("1", "2", "3"):
        keys.press(key)
    keys.press("Enter")  # the label picker, opened on purpose
    keys.type("Explosions")
    keys.press("Enter")
    keys.press("p")  # back to the weapons item: a note, and a later start
    wait_time(page, 21.5)
    page.fill("#vmk-note", "the blast, not the rifle")
    keys.press("Escape")
    keys.press("ArrowRight")
    wait_time(page, 22.5)
    keys.press("i")
    assert page.text_content("#vmk-cur-start") == "0:22.5"
    for key in ("n", "4", "1"):
        keys.press(key)
    # A moment Rekognition missed: the gambling at 0:40, from the playhead, ended with O.
    for _ in range(3):
        keys.press("ArrowRight")
    wait_time(page, 40.0)
    keys.press("a")
    keys.type("gambl")
    keys.press("Enter")
    assert page.text_content("#vmk-cur-label") == "Gambling"
    keys.press("ArrowRight")
    keys.press("ArrowRight")
    wait_time(page, 42.0)
    keys.press("o")
    page.fill("#vmk-notes", "Reviewed in the offline portal.")
    page.screenshot(path=str(artifacts / "portal-task.png"), full_page=True)

    with page.expect_request("**/submit") as posted:
        page.click("#vmk-submit")
    page.wait_for_url("**/_portal/?submitted=*")
    assert "submitted" in page.text_content("main")
    sent = posted.value.post_data_json["answerContent"]

    described = a2i.describe_human_loop(HumanLoopName=name)
    assert described["HumanLoopStatus"] == "Completed"
    output = review.read_output(boto3.client("s3"), a2i, name)
    [answer] = output["humanAnswers"]
    assert answer["answerContent"] == sent
    assert (
        answer["workerId"]
        == portal.portal_worker("123456789012", "us-east-1", "reviewer").worker_id
    )
    assert answer["timeSpentInSeconds"] > 0
    assert answer["workerMetadata"]["identityData"]["identityProviderType"] == "Cognito"
    doc = json.loads(sent["review"])
    verdicts = {item["id"]: item["verdict"] for item in doc["items"]}
    assert verdicts == {
        ITEMS[0][0]: "violation",
        ITEMS[1][0]: "not_violation",
        ITEMS[2][0]: "wrong_category",
        ITEMS[3][0]: "unsure",
        ITEMS[4][0]: "violation",
    }
    weapons = next(item for item in doc["items"] if item["id"] == ITEMS[2][0])
    assert (weapons["start_ms"], weapons["end_ms"], weapons["adjusted"]) == (22500, 28400, True)
    [added] = doc["added"]
    assert (added["label"], added["category"]) == ("Gambling", "Gambling")
    assert (added["start_ms"], added["end_ms"]) == (40000, 42000)
    changes = answers.changes_frame(output)
    assert changes[["change", "id", "label", "start_ms", "end_ms"]].values.tolist() == [
        ["adjusted", ITEMS[2][0], "Weapons", 22500, 28400],
        ["added", added["id"], "Gambling", 40000, 42000],
    ]
    assert changes.loc[0, "input_start_ms"] == 21500
    frame = review.answers_frame(output)
    wrong = frame.set_index("id").loc[ITEMS[2][0]]
    assert wrong["corrected_category"] == "Explosions and Blasts"
    assert wrong["note"] == "the blast, not the rifle"
    assert doc["notes"] == "Reviewed in the offline portal."
    assert answers.validate_review(doc, task_input()["items"]) == doc


def test_the_printed_portal_link_leads_through_a_whole_review_on_its_own_origin(stand_in, browser):
    """The link notebooks 04 and 06 print, `provision.worker_portal_url`, is the work team's
    SubDomain (a host name, as on AWS) over http://. From it a reviewer lists the tasks, opens
    one, plays the video, switches worker and submits, with the pages' CSP in force: every
    request stays on that one origin (the stand-in refuses other sites' requests), the worker
    cookie belongs to it, and the loop completes with the worker's answer."""
    sm = boto3.client("sagemaker")
    a2i, name, _ = start_loop()
    link = provision.worker_portal_url(sm, review.find_workteam(sm))
    origin = f"http://worker-portal.localhost:{stand_in.port}"
    assert link == origin
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(link)
        assert page.url == f"{origin}/_portal/"  # its / redirects to the portal
        page.fill("input[name='worker']", "second")  # the portal's own form, same origin
        page.click("text=Switch worker")
        assert page.text_content("#vmk-portal-worker") == "second"
        [cookie] = [c for c in context.cookies() if c["name"] == portal.WORKER_COOKIE]
        assert (cookie["domain"], cookie["path"], cookie["value"]) == (
            "worker-portal.localhost",
            "/_portal/",
            "second",
        )
        page.click(f"#portal-tasks a[href$='/{name}']")
        page.wait_for_url(f"{origin}/_portal/tasks/**/{name}")
        page.wait_for_function("() => (document.getElementById('vmk-video') || {}).readyState >= 2")
        video = page.evaluate("() => document.getElementById('vmk-video').currentSrc")
        assert video.startswith(f"{origin}/_portal/media/"), video
        page.wait_for_function("() => document.querySelectorAll('#vmk-items tr').length > 0")
        page.click("h2")
        for _ in range(len(ITEMS)):  # a verdict moves on to the next item without one
            page.keyboard.press("1")
        with page.expect_response("**/submit") as posted:
            page.click("#vmk-submit")
        assert posted.value.status == 200 and posted.value.url.startswith(origin)
        page.wait_for_url(f"{origin}/_portal/?submitted=*")
    finally:
        context.close()
    assert a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] == "Completed"
    [answer] = review.read_output(boto3.client("s3"), a2i, name)["humanAnswers"]
    second = portal.portal_worker("123456789012", "us-east-1", "second")
    assert answer["workerId"] == second.worker_id
    elsewhere = [u for u in requested if not u.startswith(origin + "/") and "://" in u[:8]]
    assert elsewhere == [], elsewhere  # not one request left the reviewer's origin
    assert problems == [], problems  # no CSP violation, no refused request, no script error


@pytest.mark.parametrize(
    ("window", "part"),
    [
        ({"index": 1, "count": 3}, (2, 3)),
        ({"index": 0, "count": 1}, None),  # one part: nothing to say
        ({"index": 3, "count": 3}, None),
        ({"index": "1", "count": 3}, None),
        ({"index": True, "count": 3}, None),
        ({"index": 1}, None),
        ("part 2", None),
    ],
)
def test_the_task_lists_part_comes_only_from_a_sane_window(window, part):
    assert portal._part({"window": window}) == part


def test_the_task_lists_durations_read_as_people_say_them():
    assert [portal._duration(s) for s in (-3, 45, 600, 3600, 3900, 86400, 3 * 86400)] == [
        "0 s",
        "45 s",
        "10 min",
        "1 h",
        "1 h 5 min",
        "1 day",
        "3 days",
    ]
    assert portal._video_title({"video": {"title": " Beach "}}) == "Beach"
    assert portal._video_title({"video": ["x"]}) == ""
