"""The stand-in checked against botocore's models of the operations it serves, not a list.

- every ``max``, ``pattern`` and ``enum`` of every input member reachable from a valid request,
  broken one at a time, answers the service's constraint error naming the member;
- every response of a scenario that calls each operation is checked on its raw JSON against
  the operation's output shape (no undeclared members, required ones present, types, enums,
  lengths and ranges);
- list operations page at their edges (1, n-1, n, n+1 and the model's maximum).

One in-process stand-in for the module; the suite takes a few seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.model import Shape

from conftest import build_mp4
from helpers.offline import OfflineSettings, mocked
from helpers.offline.validation import OBSERVED_PATTERNS, _compiled, service_model

BUCKET = "vmk-model-tests"
ACCOUNT = "123456789012"
#: The constraint error of each service (Rekognition: the modelled InvalidParameterException).
ERROR_CODE = {
    "sagemaker": "ValidationException",
    "sagemaker-a2i-runtime": "ValidationException",
    "rekognition": "InvalidParameterException",
}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/VideoModerationKitNotebookRole"
FLOW = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:flow-definition/vmk-model-flow"
UI = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:human-task-ui/vmk-model-ui"
TEAM = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:workteam/private-crowd/vmk"

#: A valid request of every operation the stand-in adds (names need not exist: constraints
#: are checked first).
VALID: dict[tuple[str, str], dict[str, Any]] = {
    ("sagemaker", "CreateHumanTaskUi"): {
        "HumanTaskUiName": "vmk-model-ui",
        "UiTemplate": {"Content": "<p>{{ task.input.x }}</p>"},
        "Tags": [{"Key": "k", "Value": "v"}],
    },
    ("sagemaker", "DescribeHumanTaskUi"): {"HumanTaskUiName": "vmk-model-ui"},
    ("sagemaker", "DeleteHumanTaskUi"): {"HumanTaskUiName": "vmk-model-ui"},
    ("sagemaker", "ListHumanTaskUis"): {"SortOrder": "Ascending", "NextToken": "", "MaxResults": 5},
    ("sagemaker", "CreateFlowDefinition"): {
        "FlowDefinitionName": "vmk-model-flow",
        "HumanLoopConfig": {
            "WorkteamArn": TEAM,
            "HumanTaskUiArn": UI,
            "TaskTitle": "Review",
            "TaskDescription": "Review the items",
            "TaskCount": 1,
            "TaskAvailabilityLifetimeInSeconds": 3600,
            "TaskTimeLimitInSeconds": 300,
            "TaskKeywords": ["video"],
        },
        "OutputConfig": {"S3OutputPath": f"s3://{BUCKET}/out/"},
        "RoleArn": ROLE,
        "Tags": [{"Key": "k", "Value": "v"}],
    },
    ("sagemaker", "DescribeFlowDefinition"): {"FlowDefinitionName": "vmk-model-flow"},
    ("sagemaker", "DeleteFlowDefinition"): {"FlowDefinitionName": "vmk-model-flow"},
    ("sagemaker", "ListFlowDefinitions"): {"SortOrder": "Ascending", "MaxResults": 5},
    ("sagemaker", "ListWorkteams"): {
        "SortBy": "Name",
        "SortOrder": "Ascending",
        "NameContains": "vmk",
        "MaxResults": 5,
    },
    ("sagemaker", "DescribeWorkteam"): {"WorkteamName": "vmk"},
    ("sagemaker", "RenderUiTemplate"): {
        "UiTemplate": {"Content": "<p>{{ task.input.x }}</p>"},
        "Task": {"Input": '{"x": 1}'},
        "RoleArn": ROLE,
    },
    ("sagemaker-a2i-runtime", "StartHumanLoop"): {
        "HumanLoopName": "vmk-model-loop",
        "FlowDefinitionArn": FLOW,
        "HumanLoopInput": {"InputContent": '{"x": 1}'},
        "DataAttributes": {"ContentClassifiers": ["FreeOfAdultContent"]},
    },
    ("sagemaker-a2i-runtime", "DescribeHumanLoop"): {"HumanLoopName": "vmk-model-loop"},
    ("sagemaker-a2i-runtime", "StopHumanLoop"): {"HumanLoopName": "vmk-model-loop"},
    ("sagemaker-a2i-runtime", "DeleteHumanLoop"): {"HumanLoopName": "vmk-model-loop"},
    ("sagemaker-a2i-runtime", "ListHumanLoops"): {
        "FlowDefinitionArn": FLOW,
        "SortOrder": "Ascending",
        "MaxResults": 5,
    },
    ("rekognition", "StartContentModeration"): {
        "Video": {"S3Object": {"Bucket": BUCKET, "Name": "v.mp4"}},
        "MinConfidence": 50,
        "ClientRequestToken": "token-1",
        "JobTag": "tag",
    },
    ("rekognition", "GetContentModeration"): {
        "JobId": "0" * 64,
        "MaxResults": 10,
        "SortBy": "TIMESTAMP",
        "AggregateBy": "SEGMENTS",
    },
}

#: Values tried, in order, to break a pattern (URL-safe first: some members go in the path).
_PATTERN_BREAKERS = ("!", "_", "~", "A", " ", "\n", "\u00e9", "\u2028")


def _pattern_of(shape: Shape) -> str | None:
    pattern = shape.metadata.get("pattern")
    return OBSERVED_PATTERNS.get((shape.name, pattern), pattern) if pattern else None


def _breaking_string(shape: Shape) -> str | None:
    compiled = _compiled(_pattern_of(shape) or "")
    if compiled is None:
        return None
    low, high = shape.metadata.get("min", 1) or 1, shape.metadata.get("max", 64)
    for char in _PATTERN_BREAKERS:
        for value in (char * low, "a" * (low - 1) + char if low > 1 else char, "a" + char):
            if low <= len(value) <= high and not compiled.fullmatch(value):
                return value
    return None


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def violations(service: str, operation: str) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """(id, request, expected message fragment, member path) for every constraint to break."""
    shape = service_model(service).operation_model(operation).input_shape
    base = VALID[(service, operation)]

    def walk(shape: Shape, value: Any, path: str, setter: Any) -> Iterator[Any]:
        meta = shape.metadata
        if shape.type_name == "structure":
            for name, member in shape.members.items():
                if name not in value:
                    continue
                sub = f"{path}.{_lower_camel(name)}" if path else _lower_camel(name)

                def put(new: Any, name: str = name, outer: Any = setter) -> dict[str, Any]:
                    return outer(lambda current: {**current, name: new(current[name])})

                yield from walk(member, value[name], sub, put)
        elif shape.type_name == "list" and value:

            def put_first(new: Any, outer: Any = setter) -> dict[str, Any]:
                return outer(lambda current: [new(current[0]), *current[1:]])

            yield from walk(shape.member, value[0], f"{path}.1.member", put_first)
            if "max" in meta:
                yield (
                    "max",
                    setter(lambda current: current * (meta["max"] + 1))
                    if len(value) == 1
                    else None,
                    f"have length less than or equal to {meta['max']}",
                    path,
                )
        elif shape.type_name == "string":
            if "max" in meta:
                long = "a" * (meta["max"] + 1)
                yield ("max", setter(lambda _: long), "length less than or equal to", path)
            if shape.enum:
                yield ("enum", setter(lambda _: "NOT_A_VALUE"), "satisfy enum value set", path)
            if _pattern_of(shape):
                broken = _breaking_string(shape)
                if broken is not None:
                    yield (
                        "pattern",
                        setter(lambda _: broken),
                        "satisfy regular expression pattern",
                        path,
                    )
        elif shape.type_name in ("integer", "long") and "max" in meta:
            too_big = int(meta["max"]) + 1
            yield ("max", setter(lambda _: too_big), "value less than or equal to", path)
        elif shape.type_name in ("float", "double") and "max" in meta:
            too_big = float(meta["max"]) + 1
            yield ("max", setter(lambda _: too_big), "value less than or equal to", path)

    for kind, request, fragment, path in walk(shape, base, "", lambda new: new(base)):
        if request is not None:
            yield f"{operation}.{path}.{kind}", request, fragment, path


CASES = [
    pytest.param(service, operation, request, fragment, path, id=case_id)
    for service, operation in VALID
    for case_id, request, fragment, path in violations(service, operation)
]


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    with mocked(OfflineSettings.instant(answer_after_describes=1)) as handle:
        yield handle


@pytest.fixture(scope="module")
def clients(aws) -> dict[str, Any]:
    return {service: aws.client(service) for service in ERROR_CODE}


def _method(client: Any, operation: str) -> Any:
    snake = {api: name for name, api in client.meta.method_to_api_mapping.items()}[operation]
    return getattr(client, snake)


def test_every_served_operation_has_a_valid_request_here():
    from helpers.offline import a2i_runtime, rekognition, sagemaker

    served = {
        ("sagemaker-a2i-runtime", op) for op in service_model(a2i_runtime.SERVICE).operation_names
    }
    served |= {("rekognition", op) for op in ("StartContentModeration", "GetContentModeration")}
    served |= {("sagemaker", _camel(name)) for name in sagemaker.RESPONSE_METHODS}
    served.add(("sagemaker", "RenderUiTemplate"))  # helpers/offline/render.py
    served -= {("sagemaker", op) for op in ("AddTags", "ListTags", "DeleteTags")}
    assert rekognition.RESPONSE_METHODS
    assert served == set(VALID)
    assert len(CASES) > 60


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


@pytest.mark.parametrize(("service", "operation", "request_", "fragment", "path"), CASES)
def test_each_constraint_broken_alone_is_refused(
    clients, service, operation, request_, fragment, path
):
    client = clients[service]
    with pytest.raises(ClientError) as excinfo:
        _method(client, operation)(**request_)
    error = excinfo.value.response["Error"]
    assert error["Code"] == ERROR_CODE[service]
    assert re.match(r"\d+ validation errors? detected: ", error["Message"])
    # breaking a maximum may break the pattern too ({0,62}): AWS lists every violation
    mine = f"at '{path}' failed to satisfy constraint: Member must"
    assert any(mine in part and fragment in part for part in error["Message"].split("; "))


# --- responses against their output shapes ---------------------------------------------------


def check_shape(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    """Every way ``value`` (raw JSON) differs from ``shape``, appended to ``problems``."""
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: {type(value).__name__}, not an object")
            return
        wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        for key in value:
            if key not in wire:
                problems.append(f"{path}.{key}: not a member of {shape.name}")
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}.{name}: required, missing")
        for key, item in value.items():
            if key in wire:
                check_shape(wire[key][1], item, f"{path}.{key}", problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: not a list")
            return
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: {len(value)} items > max {meta['max']}")
        for index, item in enumerate(value):
            check_shape(shape.member, item, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: not a map")
            return
        for key, item in value.items():
            check_shape(shape.value, item, f"{path}[{key}]", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: {value!r} is not a string")
            return
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in enum {shape.enum}")
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: length {len(value)} > max {meta['max']}")
        if "min" in meta and len(value) < meta["min"]:
            problems.append(f"{path}: length {len(value)} < min {meta['min']}")
        pattern = _pattern_of(shape)
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            problems.append(f"{path}: {value[:80]!r} breaks pattern {pattern}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: {value!r} is not an integer")
            return
        _range(meta, value, path, problems)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: {value!r} is not a number")
            return
        _range(meta, value, path, problems)
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: {value!r} is not a boolean")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            problems.append(f"{path}: {value!r} is not a timestamp")


def _range(meta: dict[str, Any], value: float, path: str, problems: list[str]) -> None:
    if "max" in meta and value > meta["max"]:
        problems.append(f"{path}: {value} > max {meta['max']}")
    if "min" in meta and value < meta["min"]:
        problems.append(f"{path}: {value} < min {meta['min']}")


@pytest.fixture(scope="module")
def raw_responses(aws, clients) -> list[tuple[str, str, Any]]:
    """(service, operation, raw JSON body) of every successful call of a whole scenario."""
    seen: list[tuple[str, str, Any]] = []

    def keep(http_response, parsed, model, **_):
        if http_response.status_code < 300:
            body = http_response.content
            seen.append((model.service_model.service_name, model.name, json.loads(body or b"{}")))

    for client in clients.values():
        client.meta.events.register("after-call.*", keep)
    _scenario(aws, clients)
    return seen


def _scenario(aws: Any, clients: dict[str, Any]) -> None:
    sm, a2i, rek = clients["sagemaker"], clients["sagemaker-a2i-runtime"], clients["rekognition"]
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    video = build_mp4(salt=b"model-driven")
    s3.put_object(Bucket=BUCKET, Key="v.mp4", Body=video)
    team = sm.list_workteams()["Workteams"][0]
    sm.list_workteams(SortBy="CreateDate", MaxResults=1)
    sm.describe_workteam(WorkteamName=team["WorkteamName"])
    role = aws.client("iam").get_role(RoleName="VideoModerationKitNotebookRole")["Role"]["Arn"]
    ui = sm.create_human_task_ui(
        HumanTaskUiName="vmk-model-ui", UiTemplate={"Content": "<p>{{ task.input.x }}</p>"}
    )["HumanTaskUiArn"]
    sm.describe_human_task_ui(HumanTaskUiName="vmk-model-ui")
    sm.list_human_task_uis()
    flow = sm.create_flow_definition(
        FlowDefinitionName="vmk-model-flow",
        HumanLoopConfig={
            "WorkteamArn": team["WorkteamArn"],
            "HumanTaskUiArn": ui,
            "TaskTitle": "Review",
            "TaskDescription": "Review the items",
            "TaskCount": 1,
        },
        OutputConfig={"S3OutputPath": f"s3://{BUCKET}/out/"},
        RoleArn=role,
    )["FlowDefinitionArn"]
    sm.describe_flow_definition(FlowDefinitionName="vmk-model-flow")
    sm.list_flow_definitions()
    sm.render_ui_template(HumanTaskUiArn=ui, Task={"Input": json.dumps({"x": "<b>"})}, RoleArn=role)
    sm.render_ui_template(
        UiTemplate={"Content": "{{ task.input.missing }}"}, Task={"Input": "{}"}, RoleArn=role
    )
    for name in ("vmk-model-loop-1", "vmk-model-loop-2"):
        a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow,
            HumanLoopInput={"InputContent": json.dumps({"x": name})},
        )
    a2i.describe_human_loop(HumanLoopName="vmk-model-loop-1")  # InProgress
    a2i.describe_human_loop(HumanLoopName="vmk-model-loop-1")  # Completed
    a2i.stop_human_loop(HumanLoopName="vmk-model-loop-2")
    a2i.describe_human_loop(HumanLoopName="vmk-model-loop-2")  # Stopped
    a2i.list_human_loops(FlowDefinitionArn=flow)
    a2i.delete_human_loop(HumanLoopName="vmk-model-loop-2")
    job = rek.start_content_moderation(Video={"S3Object": {"Bucket": BUCKET, "Name": "v.mp4"}})
    for aggregate in ("TIMESTAMPS", "SEGMENTS"):
        for sort in ("TIMESTAMP", "NAME"):
            rek.get_content_moderation(JobId=job["JobId"], AggregateBy=aggregate, SortBy=sort)


def test_every_response_matches_its_output_shape(raw_responses):
    operations = {(service, operation) for service, operation, _ in raw_responses}
    missing = {key for key in VALID if key not in operations} - {
        ("sagemaker", "DeleteFlowDefinition"),
        ("sagemaker", "DeleteHumanTaskUi"),
    }
    assert not missing
    problems: list[str] = []
    for service, operation, body in raw_responses:
        model = service_model(service).operation_model(operation)
        if model.output_shape is None:
            assert body in ({}, None), (operation, body)
            continue
        check_shape(model.output_shape, body, operation, problems)
    assert problems == []


def test_the_shape_check_catches_what_it_should():
    shape = service_model("sagemaker-a2i-runtime").operation_model("DescribeHumanLoop")
    problems: list[str] = []
    check_shape(
        shape.output_shape,
        {"HumanLoopStatus": "Done", "Extra": 1, "HumanLoopName": 5, "CreationTime": True},
        "X",
        problems,
    )
    text = "\n".join(problems)
    for fragment in (
        "Extra: not a member",
        "'Done' not in enum",
        "5 is not a string",
        "HumanLoopArn: required",
        "True is not a timestamp",
    ):
        assert fragment in text


# --- paging at its edges ----------------------------------------------------------------------


def _all_pages(call: Any, key: str, size: int, **params: Any) -> list[list[Any]]:
    pages, token = [], None
    while True:
        answer = call(MaxResults=size, **({"NextToken": token} if token else {}), **params)
        pages.append(answer[key])
        token = answer.get("NextToken")
        if not token:
            return pages


def test_paging_at_its_edges(aws, clients, raw_responses):
    sm, a2i = clients["sagemaker"], clients["sagemaker-a2i-runtime"]
    flow = sm.describe_flow_definition(FlowDefinitionName="vmk-model-flow")["FlowDefinitionArn"]
    for index in range(3, 6):
        a2i.start_human_loop(
            HumanLoopName=f"vmk-model-loop-{index}",
            FlowDefinitionArn=flow,
            HumanLoopInput={"InputContent": "{}"},
        )
    listing = (a2i.list_human_loops, "HumanLoopSummaries", "HumanLoopName")
    everything = [s["HumanLoopName"] for s in listing[0](FlowDefinitionArn=flow)[listing[1]]]
    n = len(everything)
    assert n == 4
    model_max = service_model("sagemaker-a2i-runtime").operation_model("ListHumanLoops")
    top = model_max.input_shape.members["MaxResults"].metadata["max"]
    for size in (1, n - 1, n, n + 1, top):
        pages = _all_pages(listing[0], listing[1], size, FlowDefinitionArn=flow)
        names = [s[listing[2]] for page in pages for s in page]
        assert names == everything, size
        assert all(len(page) == size for page in pages[:-1]) and 0 < len(pages[-1]) <= size
        assert len(pages) == -(-n // size)
    with pytest.raises(ClientError) as excinfo:
        a2i.list_human_loops(FlowDefinitionArn=flow, MaxResults=top + 1)
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    # a token is tied to the parameters it was issued for
    token = a2i.list_human_loops(FlowDefinitionArn=flow, MaxResults=1)["NextToken"]
    with pytest.raises(ClientError):
        a2i.list_human_loops(
            FlowDefinitionArn=flow, MaxResults=1, NextToken=token, SortOrder="Ascending"
        )
    for call, key in (
        (sm.list_human_task_uis, "HumanTaskUiSummaries"),
        (sm.list_flow_definitions, "FlowDefinitionSummaries"),
        (sm.list_workteams, "Workteams"),
    ):
        whole = call()[key]
        for size in (1, len(whole), len(whole) + 1, 100):
            assert [x for page in _all_pages(call, key, size) for x in page] == whole
