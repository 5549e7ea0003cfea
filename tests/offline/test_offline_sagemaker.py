"""SageMaker's A2I control plane: human task UIs, flow definitions, work teams, tags."""

from __future__ import annotations

import datetime
import re

import pytest
from botocore.exceptions import ClientError

from helpers.offline import DEFAULT_WORKTEAM_NAME


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_human_task_ui_lifecycle(aws):
    sm = aws.client("sagemaker")
    content = "<crowd-form>{{ task.input.video.title }}</crowd-form>"
    arn = sm.create_human_task_ui(HumanTaskUiName="vmk-ui-1", UiTemplate={"Content": content})[
        "HumanTaskUiArn"
    ]
    assert arn == f"arn:aws:sagemaker:us-east-1:{aws.account_id}:human-task-ui/vmk-ui-1"
    described = sm.describe_human_task_ui(HumanTaskUiName="vmk-ui-1")
    assert described["HumanTaskUiStatus"] == "Active"
    assert len(described["UiTemplate"]["ContentSha256"]) == 64
    assert isinstance(described["CreationTime"], datetime.datetime)
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.create_human_task_ui(HumanTaskUiName="vmk-ui-1", UiTemplate={"Content": content})
    names = [u["HumanTaskUiName"] for u in sm.list_human_task_uis()["HumanTaskUiSummaries"]]
    assert names == ["vmk-ui-1"]
    sm.delete_human_task_ui(HumanTaskUiName="vmk-ui-1")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_human_task_ui(HumanTaskUiName="vmk-ui-1")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.delete_human_task_ui(HumanTaskUiName="vmk-ui-1")


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("Upper-Case", "x", "regular expression pattern: [a-z0-9](-*[a-z0-9])*"),
        ("a" * 64, "x", "length less than or equal to 63"),
        ("ends-with-", "x", "regular expression pattern"),
        ("ok-name", "x" * 128_001, "length less than or equal to 128000"),
    ],
)
def test_human_task_ui_validation(aws, name, content, fragment):
    sm = aws.client("sagemaker")
    with pytest.raises(ClientError) as excinfo:
        sm.create_human_task_ui(HumanTaskUiName=name, UiTemplate={"Content": content})
    assert code_of(excinfo) == "ValidationException"
    assert fragment in str(excinfo.value)


def test_template_of_exactly_128000_characters_is_accepted(aws):
    sm = aws.client("sagemaker")
    sm.create_human_task_ui(HumanTaskUiName="big", UiTemplate={"Content": "x" * 128_000})


def test_flow_definition_goes_from_initializing_to_active(aws, make_flow):
    aws.settings.flow_definition_seconds = 30
    made = make_flow("vmk-flow-1")
    sm = aws.client("sagemaker")
    described = sm.describe_flow_definition(FlowDefinitionName="vmk-flow-1")
    assert described["FlowDefinitionStatus"] == "Initializing"
    assert described["FlowDefinitionArn"] == made["flow"]
    assert described["HumanLoopConfig"]["TaskCount"] == 1
    assert described["OutputConfig"]["S3OutputPath"].startswith("s3://")
    assert described["RoleArn"] == made["role"]
    aws.advance(31)
    assert (
        sm.describe_flow_definition(FlowDefinitionName="vmk-flow-1")["FlowDefinitionStatus"]
        == "Active"
    )
    summaries = sm.list_flow_definitions()["FlowDefinitionSummaries"]
    assert [(s["FlowDefinitionName"], s["FlowDefinitionStatus"]) for s in summaries] == [
        ("vmk-flow-1", "Active")
    ]


def test_duplicate_flow_definition_is_in_use(aws, make_flow):
    make_flow("vmk-flow-1")
    with pytest.raises(ClientError) as excinfo:
        make_flow("vmk-flow-1")
    assert code_of(excinfo) == "ResourceInUse"


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        (
            {"TaskCount": 4},
            "taskCount' failed to satisfy constraint: Member must have value less "
            "than or equal to 3",
        ),
        ({"TaskTitle": "t" * 129}, "length less than or equal to 128"),
        ({"TaskDescription": "d" * 256}, "length less than or equal to 255"),
        ({"TaskTimeLimitInSeconds": 28_801}, "TaskTimeLimitInSeconds"),
        ({"TaskAvailabilityLifetimeInSeconds": 864_001}, "TaskAvailabilityLifetimeInSeconds"),
        ({"TaskKeywords": ["ok", "not ok!"]}, "taskKeywords.2.member"),
        (
            {"WorkteamArn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/nope"},
            "does not exist",
        ),
        (
            {"HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/nope"},
            "does not exist",
        ),
    ],
)
def test_human_loop_config_validation(aws, make_flow, override, fragment):
    make_flow("vmk-flow-ok")
    with pytest.raises(ClientError) as excinfo:
        make_flow("vmk-flow-bad", **override)
    assert code_of(excinfo) == "ValidationException"
    assert fragment in str(excinfo.value)


def test_task_time_limit_below_30_is_refused_before_leaving_the_client(aws, make_flow):
    from botocore.exceptions import ParamValidationError

    make_flow("vmk-flow-ok")
    with pytest.raises(ParamValidationError):
        make_flow("vmk-flow-bad", TaskTimeLimitInSeconds=29)


def base_request(aws, made):
    return {
        "FlowDefinitionName": "vmk-flow-2",
        "HumanLoopConfig": {
            "WorkteamArn": made["team"],
            "HumanTaskUiArn": made["ui"],
            "TaskTitle": "t",
            "TaskDescription": "d",
            "TaskCount": 1,
        },
        "OutputConfig": {"S3OutputPath": f"s3://{made['bucket']}/out"},
        "RoleArn": made["role"],
    }


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"OutputConfig": {"S3OutputPath": "bucket/out"}}, "regular expression pattern"),
        ({"OutputConfig": {"S3OutputPath": "https://example.com/out"}}, "s3://"),
        ({"RoleArn": "not-a-role-arn-at-all-really"}, "roleArn"),
        ({"RoleArn": "arn:aws:iam::123456789012:role/DoesNotExist"}, "Could not assume role"),
        ({"Tags": [{"Key": "k" * 129, "Value": "v"}]}, "tags.1.member.key"),
        ({"HumanLoopConfig": None}, "HumanLoopConfig is required"),
    ],
)
def test_flow_definition_request_validation(aws, make_flow, change, fragment):
    made = make_flow("vmk-flow-ok")
    request = {**base_request(aws, made), **change}
    request = {k: v for k, v in request.items() if v is not None}
    with pytest.raises(ClientError) as excinfo:
        aws.client("sagemaker").create_flow_definition(**request)
    assert code_of(excinfo) == "ValidationException"
    assert fragment in str(excinfo.value)


def test_role_must_trust_sagemaker(aws, make_flow):
    made = make_flow("vmk-flow-ok")
    iam = aws.client("iam")
    role = iam.create_role(
        RoleName="LambdaOnly",
        AssumeRolePolicyDocument=(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
            '{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
        ),
    )["Role"]["Arn"]
    with pytest.raises(ClientError, match=re.escape("sagemaker.amazonaws.com")):
        aws.client("sagemaker").create_flow_definition(
            **{**base_request(aws, made), "RoleArn": role}
        )


def test_delete_flow_definition_passes_through_deleting(aws, make_flow):
    aws.settings.flow_definition_delete_seconds = 10
    make_flow("vmk-flow-1")
    sm = aws.client("sagemaker")
    sm.delete_flow_definition(FlowDefinitionName="vmk-flow-1")
    assert (
        sm.describe_flow_definition(FlowDefinitionName="vmk-flow-1")["FlowDefinitionStatus"]
        == "Deleting"
    )
    with pytest.raises(sm.exceptions.ResourceInUse):
        make_flow("vmk-flow-1")
    aws.advance(11)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_flow_definition(FlowDefinitionName="vmk-flow-1")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.delete_flow_definition(FlowDefinitionName="vmk-flow-1")
    make_flow("vmk-flow-1")


def test_list_paging_filters_and_order(aws, make_flow):
    for n in range(5):
        make_flow(f"vmk-flow-{n}")
        aws.advance(1)
    sm = aws.client("sagemaker")
    first = sm.list_flow_definitions(MaxResults=2, SortOrder="Ascending")
    assert [s["FlowDefinitionName"] for s in first["FlowDefinitionSummaries"]] == [
        "vmk-flow-0",
        "vmk-flow-1",
    ]
    paginator = sm.get_paginator("list_flow_definitions")
    names = [
        s["FlowDefinitionName"]
        for p in paginator.paginate(PaginationConfig={"PageSize": 2})
        for s in p["FlowDefinitionSummaries"]
    ]
    assert names == [f"vmk-flow-{n}" for n in reversed(range(5))]  # Descending by default
    with pytest.raises(ClientError) as excinfo:
        sm.list_flow_definitions(NextToken="not-a-token")
    assert code_of(excinfo) == "ValidationException"
    with pytest.raises(ClientError):
        sm.list_flow_definitions(MaxResults=2, NextToken=first["NextToken"], SortOrder="Descending")
    third = sm.describe_flow_definition(FlowDefinitionName="vmk-flow-2")["CreationTime"]
    later = sm.list_flow_definitions(CreationTimeAfter=third)["FlowDefinitionSummaries"]
    assert sorted(s["FlowDefinitionName"] for s in later) == [
        "vmk-flow-2",
        "vmk-flow-3",
        "vmk-flow-4",
    ]
    earlier = sm.list_flow_definitions(CreationTimeBefore=third)["FlowDefinitionSummaries"]
    assert len(earlier) == 2
    with pytest.raises(ClientError):
        sm.list_flow_definitions(MaxResults=101)


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_work_team_present_in_every_region(aws, region):
    sm = aws.client("sagemaker", region_name=region)
    teams = sm.list_workteams()["Workteams"]
    assert len(teams) == 1
    team = teams[0]
    assert team["WorkteamName"] == DEFAULT_WORKTEAM_NAME
    assert team["WorkteamArn"] == (
        f"arn:aws:sagemaker:{region}:{aws.account_id}:workteam/private-crowd/kit-reviewers"
    )
    assert team["SubDomain"].endswith(f".labeling.{region}.sagemaker.aws")
    assert team["MemberDefinitions"][0]["CognitoMemberDefinition"]["UserPool"].startswith(region)
    described = sm.describe_workteam(WorkteamName=DEFAULT_WORKTEAM_NAME)["Workteam"]
    assert described["SubDomain"] == team["SubDomain"]
    assert sm.list_workteams(NameContains="reviewers")["Workteams"] == teams
    assert sm.list_workteams(NameContains="nobody")["Workteams"] == []
    paginator = sm.get_paginator("list_workteams")
    assert [t["WorkteamName"] for p in paginator.paginate() for t in p["Workteams"]] == [
        DEFAULT_WORKTEAM_NAME
    ]


def test_work_team_subdomain_is_configurable(aws):
    sm = aws.client("sagemaker")
    aws.settings.workteam_subdomain = "127.0.0.1:8080"
    assert (
        sm.describe_workteam(WorkteamName=DEFAULT_WORKTEAM_NAME)["Workteam"]["SubDomain"]
        == "127.0.0.1:8080"
    )


def test_unknown_work_team(aws):
    with pytest.raises(ClientError) as excinfo:
        aws.client("sagemaker").describe_workteam(WorkteamName="nobody")
    assert code_of(excinfo) == "ValidationException"


def test_tags_on_flow_definitions_ui_and_team(aws, make_flow):
    made = make_flow("vmk-flow-1")
    sm = aws.client("sagemaker")
    assert sm.list_tags(ResourceArn=made["flow"])["Tags"] == [
        {"Key": "video-moderation-kit", "Value": "test"}
    ]
    for arn in (made["flow"], made["ui"], made["team"]):
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "lab"}])
        assert {"Key": "owner", "Value": "lab"} in sm.list_tags(ResourceArn=arn)["Tags"]
        sm.delete_tags(ResourceArn=arn, TagKeys=["owner"])
        assert {"Key": "owner", "Value": "lab"} not in sm.list_tags(ResourceArn=arn)["Tags"]
    with pytest.raises(ClientError):
        sm.list_tags(ResourceArn=made["flow"] + "-gone")
    # moto's own resources keep working
    arn = sm.create_experiment(ExperimentName="exp")["ExperimentArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "a", "Value": "b"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "b"}]
