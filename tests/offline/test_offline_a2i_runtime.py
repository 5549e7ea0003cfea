"""The A2I runtime (human loops), the auto reviewer and A2I's output.json in S3."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from botocore.exceptions import ClientError

from helpers import answers


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status_of(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def read_output(aws, uri):
    bucket, key = uri[len("s3://") :].split("/", 1)
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return key, json.loads(body)


def test_auto_reviewer_answers_after_n_describes_and_writes_output(
    aws, review_setup, input_content
):
    aws.settings.answer_after_describes = 2
    aws.settings.auto_review = "confirm"
    a2i = aws.client("sagemaker-a2i-runtime")
    content = input_content(3)
    arn = a2i.start_human_loop(
        HumanLoopName="vmk-loop-1",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": content},
        DataAttributes={"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]},
    )["HumanLoopArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:{aws.account_id}:human-loop/vmk-loop-1"
    seen = [a2i.describe_human_loop(HumanLoopName="vmk-loop-1") for _ in range(3)]
    assert [d["HumanLoopStatus"] for d in seen] == ["InProgress", "InProgress", "Completed"]
    done = seen[-1]
    # AWS gives the output's location while InProgress too (test_offline_aws_evidence.py)
    assert {d["HumanLoopOutput"]["OutputS3Uri"] for d in seen} == {
        done["HumanLoopOutput"]["OutputS3Uri"]
    }
    assert done["FlowDefinitionArn"] == review_setup["flow"]
    assert isinstance(done["CreationTime"], datetime.datetime)
    uri = done["HumanLoopOutput"]["OutputS3Uri"]
    created = done["CreationTime"].astimezone(datetime.timezone.utc)
    key, document = read_output(aws, uri)
    assert key == (
        "a2i-output/vmk-flow-test/"
        + created.strftime("%Y/%m/%d/%H/%M/%S")
        + "/vmk-loop-1/output.json"
    )
    assert document["flowDefinitionArn"] == review_setup["flow"]
    assert document["humanLoopName"] == "vmk-loop-1"
    assert document["inputContent"] == json.loads(content)
    [answer] = document["humanAnswers"]
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
    assert re.match(stamp, answer["acceptanceTime"]) and re.match(stamp, answer["submissionTime"])
    assert answer["timeSpentInSeconds"] > 0
    assert re.fullmatch(r"[0-9a-f]{16}", answer["workerId"])
    identity = answer["workerMetadata"]["identityData"]
    assert identity["identityProviderType"] == "Cognito"
    assert identity["issuer"].startswith("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_")
    assert re.fullmatch(r"[0-9a-f-]{36}", identity["sub"])
    assert list(answer["answerContent"]) == [answers.ANSWER_FIELD]
    review = json.loads(answer["answerContent"][answers.ANSWER_FIELD])
    assert review["schema"] == answers.ANSWER_SCHEMA
    assert [i["id"] for i in review["items"]] == ["i0001", "i0002", "i0003"]
    assert {i["verdict"] for i in review["items"]} == {"violation"}
    assert all(tuple(i) == answers.ITEM_FIELDS for i in review["items"])
    assert not any(i["escalate"] or i["bulk"] for i in review["items"])
    assert "policy confirm" in review["notes"]


@pytest.mark.parametrize(
    ("policy", "verdicts"),
    [("confirm", {"violation"}), ("reject", {"not_violation"})],
)
def test_uniform_policies(aws, review_setup, input_content, policy, verdicts):
    aws.settings.auto_review = policy
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": input_content(4)},
    )
    uri = a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopOutput"]["OutputS3Uri"]
    review = json.loads(read_output(aws, uri)[1]["humanAnswers"][0]["answerContent"]["review"])
    assert {i["verdict"] for i in review["items"]} == verdicts
    assert all(i["category"] is None for i in review["items"])


def test_mixed_policy_is_deterministic(aws, review_setup, input_content):
    aws.settings.auto_review = "mixed"
    a2i = aws.client("sagemaker-a2i-runtime")
    reviews = []
    for name in ("vmk-loop-a", "vmk-loop-b"):
        a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=review_setup["flow"],
            HumanLoopInput={"InputContent": input_content(12)},
        )
        uri = a2i.describe_human_loop(HumanLoopName=name)["HumanLoopOutput"]["OutputS3Uri"]
        answer = read_output(aws, uri)[1]["humanAnswers"][0]["answerContent"]["review"]
        reviews.append(json.loads(answer)["items"])
    assert reviews[0] == reviews[1]
    verdicts = [i["verdict"] for i in reviews[0]]
    assert verdicts.count("wrong_category") == 1
    assert verdicts.count("violation") > verdicts.count("not_violation") >= 1
    wrong = next(i for i in reviews[0] if i["verdict"] == "wrong_category")
    assert wrong["category"] and wrong["category"] != "Drinking"
    assert set(verdicts) <= set(answers.VERDICTS)


def test_off_policy_never_answers(aws, review_setup, input_content):
    aws.settings.auto_review = "off"
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": input_content(2)},
    )
    for _ in range(5):
        assert a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopStatus"] == "InProgress"


def test_task_count_gives_one_answer_per_worker(aws, make_flow, input_content):
    flow = make_flow("vmk-flow-3", task_count=3)["flow"]
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=flow,
        HumanLoopInput={"InputContent": input_content(2)},
    )
    uri = a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopOutput"]["OutputS3Uri"]
    workers = [a["workerId"] for a in read_output(aws, uri)[1]["humanAnswers"]]
    assert len(workers) == len(set(workers)) == 3


def test_input_without_items_is_still_answered(aws, review_setup):
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": json.dumps(["not", "an", "object"])},
    )
    uri = a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopOutput"]["OutputS3Uri"]
    document = read_output(aws, uri)[1]
    assert document["inputContent"] == ["not", "an", "object"]
    review = json.loads(document["humanAnswers"][0]["answerContent"]["review"])
    assert review["items"] == [] and "no `items` list" in review["notes"]


def test_start_before_the_flow_definition_is_active(aws, make_flow, input_content):
    aws.settings.flow_definition_seconds = 10
    flow = make_flow("vmk-flow-slow")["flow"]
    a2i = aws.client("sagemaker-a2i-runtime")
    with pytest.raises(ClientError) as excinfo:
        a2i.start_human_loop(
            HumanLoopName="vmk-loop",
            FlowDefinitionArn=flow,
            HumanLoopInput={"InputContent": input_content(1)},
        )
    assert code_of(excinfo) == "ValidationException"
    assert "Initializing" in str(excinfo.value)
    aws.advance(11)
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=flow,
        HumanLoopInput={"InputContent": input_content(1)},
    )


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("under_score", "{}", "humanLoopName"),
        ("x" * 64, "{}", "length less than or equal to 63"),
        ("vmk-loop", "x" * (4 * 1024 * 1024), "length less than or equal to 3145728"),
        ("vmk-loop", "{not json", "not valid JSON"),
    ],
)
def test_start_validation(aws, review_setup, name, content, fragment):
    a2i = aws.client("sagemaker-a2i-runtime")
    with pytest.raises(a2i.exceptions.ValidationException, match=re.escape(fragment)) as excinfo:
        a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=review_setup["flow"],
            HumanLoopInput={"InputContent": content},
        )
    assert status_of(excinfo) == 400


def test_input_of_exactly_the_maximum_size_is_accepted(aws, review_setup):
    content = json.dumps({"pad": "x" * (3_145_728 - 11)})
    assert len(content) == 3_145_728
    aws.client("sagemaker-a2i-runtime").start_human_loop(
        HumanLoopName="vmk-big",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": content},
    )


def test_content_classifiers_enum(aws, review_setup):
    a2i = aws.client("sagemaker-a2i-runtime")
    with pytest.raises(a2i.exceptions.ValidationException, match="enum value set"):
        a2i.start_human_loop(
            HumanLoopName="vmk-loop",
            FlowDefinitionArn=review_setup["flow"],
            HumanLoopInput={"InputContent": "{}"},
            DataAttributes={"ContentClassifiers": ["FreeOfEverything"]},
        )


def test_unknown_flow_definition(aws, review_setup):
    a2i = aws.client("sagemaker-a2i-runtime")
    missing = review_setup["flow"].replace("vmk-flow-test", "vmk-flow-missing")
    with pytest.raises(a2i.exceptions.ValidationException, match="does not exist"):
        a2i.start_human_loop(
            HumanLoopName="vmk-loop",
            FlowDefinitionArn=missing,
            HumanLoopInput={"InputContent": "{}"},
        )
    with pytest.raises(a2i.exceptions.ResourceNotFoundException):
        a2i.list_human_loops(FlowDefinitionArn=missing)


def test_reused_name(aws, review_setup, input_content):
    a2i = aws.client("sagemaker-a2i-runtime")
    params = {
        "HumanLoopName": "vmk-loop",
        "FlowDefinitionArn": review_setup["flow"],
        "HumanLoopInput": {"InputContent": input_content(2)},
    }
    first = a2i.start_human_loop(**params)["HumanLoopArn"]
    assert a2i.start_human_loop(**params)["HumanLoopArn"] == first
    with pytest.raises(a2i.exceptions.ConflictException) as excinfo:
        a2i.start_human_loop(**{**params, "HumanLoopInput": {"InputContent": input_content(3)}})
    assert status_of(excinfo) == 409
    flows = a2i.list_human_loops(FlowDefinitionArn=review_setup["flow"])["HumanLoopSummaries"]
    assert len(flows) == 1


def test_stop_and_delete_rules(aws, review_setup, input_content):
    aws.settings.auto_review = "off"
    aws.settings.loop_stop_seconds = 5
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": input_content(1)},
    )
    with pytest.raises(a2i.exceptions.ValidationException, match="InProgress"):
        a2i.delete_human_loop(HumanLoopName="vmk-loop")
    a2i.stop_human_loop(HumanLoopName="vmk-loop")
    assert a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopStatus"] == "Stopping"
    with pytest.raises(a2i.exceptions.ValidationException, match="Stopping"):
        a2i.delete_human_loop(HumanLoopName="vmk-loop")
    a2i.stop_human_loop(HumanLoopName="vmk-loop")  # stopping again is harmless
    aws.advance(6)
    described = a2i.describe_human_loop(HumanLoopName="vmk-loop")
    assert described["HumanLoopStatus"] == "Stopped"
    assert "HumanLoopOutput" not in described
    a2i.delete_human_loop(HumanLoopName="vmk-loop")
    for call in (a2i.describe_human_loop, a2i.delete_human_loop, a2i.stop_human_loop):
        with pytest.raises(a2i.exceptions.ResourceNotFoundException) as excinfo:
            call(HumanLoopName="vmk-loop")
        assert status_of(excinfo) == 404
    assert a2i.list_human_loops(FlowDefinitionArn=review_setup["flow"])["HumanLoopSummaries"] == []


def test_completed_loops_cannot_stop_but_can_be_deleted(aws, review_setup, input_content):
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": input_content(1)},
    )
    assert a2i.describe_human_loop(HumanLoopName="vmk-loop")["HumanLoopStatus"] == "Completed"
    with pytest.raises(a2i.exceptions.ValidationException):
        a2i.stop_human_loop(HumanLoopName="vmk-loop")
    a2i.delete_human_loop(HumanLoopName="vmk-loop")


def test_unanswered_loops_expire(aws, make_flow, input_content):
    aws.settings.auto_review = "off"
    flow = make_flow("vmk-flow-short", TaskAvailabilityLifetimeInSeconds=60)["flow"]
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=flow,
        HumanLoopInput={"InputContent": input_content(1)},
    )
    aws.advance(61)
    described = a2i.describe_human_loop(HumanLoopName="vmk-loop")
    assert (described["HumanLoopStatus"], described["FailureCode"]) == ("Failed", "Expired")
    assert described["FailureReason"]
    a2i.delete_human_loop(HumanLoopName="vmk-loop")


def test_missing_output_bucket_fails_the_loop(aws, review_setup, input_content):
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": input_content(1)},
    )
    s3 = aws.client("s3")
    for obj in s3.list_objects_v2(Bucket=review_setup["bucket"]).get("Contents", []):
        s3.delete_object(Bucket=review_setup["bucket"], Key=obj["Key"])
    s3.delete_bucket(Bucket=review_setup["bucket"])
    described = a2i.describe_human_loop(HumanLoopName="vmk-loop")
    assert described["HumanLoopStatus"] == "Failed"
    assert "no such bucket" in described["FailureReason"]


def test_list_human_loops(aws, review_setup, make_flow, input_content):
    aws.settings.auto_review = "off"
    other = make_flow("vmk-flow-other")["flow"]
    a2i = aws.client("sagemaker-a2i-runtime")
    for n in range(5):
        a2i.start_human_loop(
            HumanLoopName=f"vmk-loop-{n}",
            FlowDefinitionArn=review_setup["flow"],
            HumanLoopInput={"InputContent": input_content(1)},
        )
        aws.advance(1)
    a2i.start_human_loop(
        HumanLoopName="vmk-elsewhere",
        FlowDefinitionArn=other,
        HumanLoopInput={"InputContent": input_content(1)},
    )
    paginator = a2i.get_paginator("list_human_loops")
    pages = list(
        paginator.paginate(FlowDefinitionArn=review_setup["flow"], PaginationConfig={"PageSize": 2})
    )
    assert [len(p["HumanLoopSummaries"]) for p in pages] == [2, 2, 1]
    names = [s["HumanLoopName"] for p in pages for s in p["HumanLoopSummaries"]]
    assert names == [f"vmk-loop-{n}" for n in reversed(range(5))]
    ascending = a2i.list_human_loops(FlowDefinitionArn=review_setup["flow"], SortOrder="Ascending")
    assert ascending["HumanLoopSummaries"][0]["HumanLoopName"] == "vmk-loop-0"
    third = a2i.describe_human_loop(HumanLoopName="vmk-loop-2")["CreationTime"]
    after = a2i.list_human_loops(FlowDefinitionArn=review_setup["flow"], CreationTimeAfter=third)
    assert len(after["HumanLoopSummaries"]) == 3
    before = a2i.list_human_loops(FlowDefinitionArn=review_setup["flow"], CreationTimeBefore=third)
    assert len(before["HumanLoopSummaries"]) == 2
    summary = ascending["HumanLoopSummaries"][0]
    assert summary["HumanLoopStatus"] == "InProgress"
    assert summary["FlowDefinitionArn"] == review_setup["flow"]
    with pytest.raises(a2i.exceptions.ValidationException):
        a2i.list_human_loops(FlowDefinitionArn=review_setup["flow"], NextToken="bogus")
    with pytest.raises(a2i.exceptions.ValidationException):
        a2i.list_human_loops(FlowDefinitionArn=review_setup["flow"], MaxResults=101)


def test_delete_flow_definition_with_running_loops_is_refused(aws, review_setup, input_content):
    aws.settings.auto_review = "off"
    aws.settings.loop_stop_seconds = 0
    a2i, sm = aws.client("sagemaker-a2i-runtime"), aws.client("sagemaker")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": input_content(1)},
    )
    with pytest.raises(sm.exceptions.ResourceInUse, match="vmk-loop"):
        sm.delete_flow_definition(FlowDefinitionName="vmk-flow-test")
    a2i.stop_human_loop(HumanLoopName="vmk-loop")
    sm.delete_flow_definition(FlowDefinitionName="vmk-flow-test")
    with pytest.raises(a2i.exceptions.ValidationException, match=r"Deleting|does not exist"):
        a2i.start_human_loop(
            HumanLoopName="vmk-loop-2",
            FlowDefinitionArn=review_setup["flow"],
            HumanLoopInput={"InputContent": input_content(1)},
        )


def test_complete_human_loop_is_the_one_way_to_answer(aws, review_setup, input_content):
    from helpers.offline import a2i_runtime

    aws.settings.auto_review = "off"
    a2i = aws.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="vmk-loop",
        FlowDefinitionArn=review_setup["flow"],
        HumanLoopInput={"InputContent": input_content(1)},
    )
    backend = a2i_runtime.a2i_runtime_backends[aws.account_id][aws.region]
    loop = backend.loop("vmk-loop")
    worker = a2i_runtime.Worker(
        worker_id="0123456789abcdef",
        sub="s-1",
        issuer="https://cognito-idp.us-east-1.amazonaws.com/pool",
    )
    content = {"review": json.dumps({"schema": "vmk-review/1", "items": [], "notes": "by hand"})}
    a2i_runtime.complete_human_loop(backend, loop, content, worker)
    described = a2i.describe_human_loop(HumanLoopName="vmk-loop")
    _, document = read_output(aws, described["HumanLoopOutput"]["OutputS3Uri"])
    assert document["humanAnswers"][0]["answerContent"] == content
    assert document["humanAnswers"][0]["workerId"] == "0123456789abcdef"
    with pytest.raises(a2i_runtime.HumanLoopClosed):
        a2i_runtime.complete_human_loop(backend, loop, content, worker)
