"""Behaviours that real clients rely on, each pinned to what AWS does and where that is shown.

Issue 12's defects 1-9: code nobody on the kit wrote (AWS's A2I sample notebooks, the lab, the
AWS CLI, the SageMaker SDK) was pointed at the stand-in unchanged. Each test names its evidence;
helpers/offline/README.md lists the same sources.
"""

from __future__ import annotations

import datetime
import http.client
import json
import subprocess
import sys
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import BUCKET, KEY
from helpers.offline import start_server

A2I_SAMPLES = "aws-samples/amazon-a2i-sample-jupyter-notebooks"


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def start(aws, review_setup, input_content, name="vmk-loop", content=None):
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": content or input_content(2)},
    )
    return a2i


# --- 1. HumanLoopOutput while InProgress ------------------------------------------------------


def test_describe_human_loop_carries_output_uri_while_in_progress(aws, review_setup, input_content):
    """AWS: `A2I_SAMPLES`, "Amazon A2I and Comprehend Custom Classification Endpoints", saved
    output: `HumanLoop Status: InProgress` beside `{'OutputS3Uri': 's3://…/output.json'}`, and
    the same URI once Completed. The samples read `resp["HumanLoopOutput"]` unconditionally."""
    aws.settings.answer_after_describes = 1
    a2i = start(aws, review_setup, input_content)
    first = a2i.describe_human_loop(HumanLoopName="vmk-loop")
    assert first["HumanLoopStatus"] == "InProgress"
    planned = first["HumanLoopOutput"]["OutputS3Uri"]
    assert planned.startswith("s3://") and planned.endswith("/vmk-loop/output.json")
    done = a2i.describe_human_loop(HumanLoopName="vmk-loop")
    assert done["HumanLoopStatus"] == "Completed"
    assert done["HumanLoopOutput"]["OutputS3Uri"] == planned
    bucket, key = planned[len("s3://") :].split("/", 1)
    assert json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


# --- 2. Capital letters in human loop names ---------------------------------------------------


def test_human_loop_names_with_capitals_are_accepted_as_aws_did(aws, review_setup, input_content):
    """The model's pattern is `^[a-z0-9](-*[a-z0-9])*$`, yet AWS started, listed and completed
    `Fraud-detector-1613589638354` (`A2I_SAMPLES`, "Amazon A2I and Amazon Fraud Detector",
    saved output of Feb 2021, its output.json path included). The stand-in follows AWS."""
    name = "Fraud-detector-1613668909838"
    a2i = start(aws, review_setup, input_content, name=name)
    [summary] = a2i.list_human_loops(FlowDefinitionArn=review_setup["flow"])["HumanLoopSummaries"]
    assert summary["HumanLoopName"] == name
    assert a2i.describe_human_loop(HumanLoopName=name)["HumanLoopName"] == name
    for bad in ("-leading-dash", "trailing-", "under_score", "x" * 64):
        with pytest.raises(ClientError) as excinfo:
            a2i.describe_human_loop(HumanLoopName=bad)
        assert code_of(excinfo) == "ValidationException"


# --- 3. Timestamps in order -------------------------------------------------------------------


def test_answer_times_never_precede_the_loop(aws, review_setup, input_content):
    """A2I's output.json: `acceptanceTime` ≤ `submissionTime`, `timeSpentInSeconds` their
    difference (`A2I_SAMPLES` Fraud Detector output: accepted 19:20:52.563, submitted
    19:23:38.092, 165.529 s; loop created 19:20:38). Answered at once, the auto reviewer's
    answer must still start no earlier than the loop."""
    aws.settings.answer_after_describes = 0
    a2i = start(aws, review_setup, input_content)
    described = a2i.describe_human_loop(HumanLoopName="vmk-loop")
    assert described["HumanLoopStatus"] == "Completed"
    bucket, key = described["HumanLoopOutput"]["OutputS3Uri"][len("s3://") :].split("/", 1)
    document = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    created = described["CreationTime"].astimezone(datetime.timezone.utc)

    def moment(text):
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc
        )

    for answer in document["humanAnswers"]:
        accepted, submitted = moment(answer["acceptanceTime"]), moment(answer["submissionTime"])
        assert created <= accepted <= submitted
        assert answer["timeSpentInSeconds"] == round((submitted - accepted).total_seconds(), 3)


# --- 4. SubDomain is a host name -------------------------------------------------------------


def test_workteam_subdomain_is_a_host_name_that_leads_to_the_portal(offline_settings, use_stand_in):
    """AWS: DescribeWorkteam's SubDomain is a host name (`xxxx.labeling.<region>.sagemaker.aws`;
    the lab and every A2I sample print `'https://' + SubDomain`). By default the stand-in gives
    `worker-portal.localhost:<port>`: no scheme, no path, a name Chromium resolves to the
    loopback address (RFC 6761 reserves `.localhost`), whose root redirects to the portal.
    The kit's `worker_portal_url` gives `http://` for such a loopback name (`https://` on AWS).
    What remains: the server speaks plain HTTP, so the `https://` link the lab prints must be
    opened as `http://` (helpers/offline/README.md)."""
    from helpers import provision

    with start_server(offline_settings, port=0) as server:
        use_stand_in(server)
        sm = server.client("sagemaker")
        team = sm.list_workteams()["Workteams"][0]
        sub = sm.describe_workteam(WorkteamName=team["WorkteamName"])["Workteam"]["SubDomain"]
        assert sub == f"worker-portal.localhost:{server.port}" == server.portal_host
        link = urllib.parse.urlsplit("https://" + sub)
        assert (link.hostname, link.port, link.path) == ("worker-portal.localhost", server.port, "")
        assert provision.worker_portal_url(sm, team) == f"http://{sub}"
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/", headers={"Host": sub})
        answer = connection.getresponse()
        assert (answer.status, answer.getheader("Location")) == (308, "/_portal/")
        answer.read()
        connection.request("GET", "/_portal/", headers={"Host": sub})
        answer = connection.getresponse()
        assert answer.status == 200 and b"Your tasks" in answer.read()
        connection.close()
    assert offline_settings.workteam_subdomain is None


def test_workteam_subdomain_localhost_still_names_the_host_form(offline_settings):
    """`workteam_subdomain="localhost"` (`--workteam-subdomain localhost`) asks for the default
    explicitly; `"url"` gives the earlier `http://127.0.0.1:<port>/_portal/`."""
    offline_settings.workteam_subdomain = "localhost"
    with start_server(offline_settings, port=0) as server:
        assert server.settings.workteam_subdomain == f"worker-portal.localhost:{server.port}"
    assert offline_settings.workteam_subdomain == "localhost"


# --- 5. Patterns are Java regular expressions -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("TaskDescription", "line one\rline two"),
        ("TaskDescription", "line one\u2028line two"),
        ("TaskDescription", "trailing newline\n"),
    ],
)
def test_dot_does_not_match_line_terminators(make_flow, aws, field, value):
    """Java's `.` matches no line terminator (java.util.regex.Pattern); SageMaker refuses
    `'test\\n'` against `.*` (aws/sagemaker-python-sdk#3295)."""
    with pytest.raises(ClientError) as excinfo:
        make_flow("vmk-java-dot", **{field: value})
    assert code_of(excinfo) == "ValidationException"
    assert "regular expression pattern" in str(excinfo.value)


def test_digit_classes_are_ascii_only(aws, review_setup):
    """Java's `\\d` is `[0-9]` unless UNICODE_CHARACTER_CLASS is set: a role ARN with
    full-width digits breaks `^arn:aws[a-z\\-]*:iam::\\d{12}:role/…`."""
    sm = aws.client("sagemaker")
    account = aws.account_id
    wide = account.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    role = review_setup["role"].replace(account, wide)
    assert role != review_setup["role"] and len(wide) == 12
    with pytest.raises(ClientError) as excinfo:
        sm.render_ui_template(
            UiTemplate={"Content": "<p>{{ task.input.x }}</p>"},
            Task={"Input": '{"x": 1}'},
            RoleArn=role,
        )
    assert code_of(excinfo) == "ValidationException"
    assert "regular expression pattern" in str(excinfo.value)


def test_java_translation():
    from helpers.offline.validation import java_to_python

    assert java_to_python(r"^\d+$") == "^[0-9]+$"
    assert java_to_python(r"[\w-]+") == "[a-zA-Z0-9_-]+"
    assert java_to_python("a.b[.]") == "a[^\\n\\r\\x85\\u2028\\u2029]b[.]"
    assert java_to_python(r"\p{Lu}") is None


# --- 6. NextTokens decoded strictly -----------------------------------------------------------


def _edited(token):
    middle = len(token) // 2
    return [
        token[:middle] + "!" + token[middle:],
        token[:middle] + "\n" + token[middle:],
        token + "A",
    ]


def test_edited_next_tokens_are_refused(aws, review_setup, input_content, make_flow):
    """AWS refuses a NextToken it did not issue ("Invalid pagination token", ValidationException
    in the SageMaker API reference's common errors); base64 decoders that skip characters
    outside the alphabet would accept an edited one."""
    sm = aws.client("sagemaker")
    a2i = start(aws, review_setup, input_content, name="vmk-loop-a")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop-b",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": input_content(1)},
    )
    make_flow(name="vmk-flow-other")
    calls = [
        (a2i.list_human_loops, {"FlowDefinitionArn": review_setup["flow"]}),
        (sm.list_flow_definitions, {}),
        (sm.list_human_task_uis, {}),
    ]
    sm.create_human_task_ui(
        HumanTaskUiName="vmk-ui-other", UiTemplate={"Content": "<p>{{ task.input.x }}</p>"}
    )
    for call, params in calls:
        token = call(MaxResults=1, **params)["NextToken"]
        assert call(MaxResults=1, NextToken=token, **params)
        for bad in _edited(token):
            with pytest.raises(ClientError) as excinfo:
                call(MaxResults=1, NextToken=bad, **params)
            assert code_of(excinfo) == "ValidationException", (call, bad)


# --- 7. InputContent is strict JSON -----------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_start_human_loop_refuses_nan_and_infinity(aws, review_setup, constant):
    """`InputContent` is "serialized input from the human loop ... in JSON format" (A2I API
    reference, HumanLoopInput); RFC 8259 has no NaN or Infinity (Python's json writes them)."""
    a2i = aws.client("sagemaker-a2i-runtime")
    with pytest.raises(ClientError) as excinfo:
        a2i.start_human_loop(
            HumanLoopName="vmk-loop",
            FlowDefinitionArn=review_setup["flow"],
            HumanLoopInput={"InputContent": f'{{"score": {constant}}}'},
        )
    assert code_of(excinfo) == "ValidationException"
    assert constant.lstrip("-") in str(excinfo.value)
    assert a2i.list_human_loops(FlowDefinitionArn=review_setup["flow"])["HumanLoopSummaries"] == []


# --- 8. Content type of JSON-protocol answers -------------------------------------------------


def test_rekognition_answers_are_amz_json(offline_settings, use_stand_in, fixture_video):
    """Rekognition speaks the `json` protocol, version 1.1 (botocore model metadata); AWS
    answers `Content-Type: application/x-amz-json-1.1`."""
    with start_server(offline_settings, port=0) as server:
        use_stand_in(server)
        s3 = server.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=fixture_video)
        rekognition = server.client("rekognition")
        video = {"S3Object": {"Bucket": BUCKET, "Name": KEY}}
        started = rekognition.start_content_moderation(Video=video)
        answer = rekognition.get_content_moderation(JobId=started["JobId"])
        assert answer["JobStatus"] == "SUCCEEDED"
        for response in (started, answer):
            headers = response["ResponseMetadata"]["HTTPHeaders"]
            assert headers["content-type"] == "application/x-amz-json-1.1"


# --- 9. StopHumanLoop on a completed loop -----------------------------------------------------


def test_stop_human_loop_on_a_completed_loop_is_refused(aws, review_setup, input_content):
    """The A2I developer guide ("Delete a Human Loop") describes stopping only for loops
    `InProgress` (→ `Stopping` → `Stopped`); StopHumanLoop's API reference lists
    ValidationException for a request that "isn't valid". No public evidence shows AWS stopping
    a Completed loop: the stand-in refuses (stricter), and the kit never stops one."""
    aws.settings.answer_after_describes = 0
    a2i = start(aws, review_setup, input_content)
    assert a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopStatus"] == "Completed"
    with pytest.raises(ClientError) as excinfo:
        a2i.stop_human_loop(HumanLoopName="vmk-loop")
    assert code_of(excinfo) == "ValidationException"
    assert "Completed" in str(excinfo.value)
    a2i.delete_human_loop(HumanLoopName="vmk-loop")


# --- S3 bucket names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Upper-case",
        "has_underscore",
        "-starts-with-dash",
        "ends-with-dash-",
        "two..periods",
        "192.168.5.4",
        "xn--punycode",
        "sthree-bucket",
        "amzn-s3-demo-bucket",
        "bucket-s3alias",
        "bucket--ol-s3",
        "bucket.mrap",
        "bucket--table-s3",
    ],
)
def test_create_bucket_refuses_names_s3_refuses(aws, name):
    """Amazon S3 User Guide, "General purpose bucket naming rules": lowercase letters, digits,
    dots and hyphens, a letter or digit at both ends, no adjacent periods, no IP address, no
    reserved prefix or suffix. S3 answers InvalidBucketName; moto checks only the length."""
    s3 = aws.client("s3")
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket=name)
    assert code_of(excinfo) == "InvalidBucketName"
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_create_bucket_takes_valid_names(aws):
    s3 = aws.client("s3")
    for name in ("abc", "my.bucket-1", "a" * 63):
        s3.create_bucket(Bucket=name)
    assert len(s3.list_buckets()["Buckets"]) == 3


#: Run in its own process: a test session may already hold Playwright's sync API (the browser
#: tests' session browser), and a second one cannot start in the same process.
_CHROMIUM_PROBE = """
import json, os, shutil, sys
from playwright.sync_api import Error, sync_playwright
link, host = sys.argv[1], sys.argv[2]
exe = next((shutil.which(c) for c in (os.environ.get("VMK_CHROMIUM"), "chromium") if c), None)
out = {}
with sync_playwright() as pw:
    browser = pw.chromium.launch(executable_path=exe, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    page = browser.new_page()
    page.goto(link, timeout=20000)
    out["url"], out["portal"] = page.url, "portal" in page.content().lower()
    try:
        page.goto("https://" + host, timeout=20000)
        out["https"] = "opened"
    except Error as error:
        out["https"] = str(error)
    browser.close()
print(json.dumps(out))
"""


def test_chromium_opens_the_portal_by_its_host_name_over_http_only(offline_settings):
    """Real Chromium (principle 7): `worker-portal.localhost` resolves to the loopback address
    with no DNS, and the kit's link, `http://` + SubDomain, opens the portal. `https://` +
    SubDomain, what the lab prints, fails on the TLS handshake with the plain-HTTP server: what
    remains."""
    pytest.importorskip("playwright.sync_api", reason="playwright comes with requirements-test")
    from helpers import provision

    with start_server(offline_settings, port=0) as server:
        sm = server.client("sagemaker")
        team = sm.list_workteams()["Workteams"][0]
        sub = sm.describe_workteam(WorkteamName=team["WorkteamName"])["Workteam"]["SubDomain"]
        link = provision.worker_portal_url(sm, team)
        probe = subprocess.run(
            [sys.executable, "-c", _CHROMIUM_PROBE, link, sub],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["url"] == f"http://{server.portal_host}/_portal/"
    assert seen["portal"]
    assert "net::ERR_SSL_PROTOCOL_ERROR" in seen["https"]
