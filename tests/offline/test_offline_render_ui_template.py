"""SageMaker RenderUiTemplate in the stand-in: rendered content, Errors, validation."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from helpers import preview, review
from helpers.offline import render


@pytest.fixture
def sm(aws):
    return aws.client("sagemaker")


@pytest.fixture
def role(aws):
    return aws.client("iam").get_role(RoleName="VideoModerationKitNotebookRole")["Role"]["Arn"]


def task(title="<b>Sample</b>"):
    return {"Input": json.dumps(preview.sample_input("s3://bucket/videos/a b.mp4", title=title))}


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_the_kits_page_renders_without_errors(sm, role):
    ui = sm.create_human_task_ui(
        HumanTaskUiName="vmk-ui", UiTemplate={"Content": review.load_template()}
    )["HumanTaskUiArn"]
    out = sm.render_ui_template(HumanTaskUiArn=ui, Task=task(), RoleArn=role)
    assert out["Errors"] == []
    page = out["RenderedContent"]
    assert '<h2 id="vmk-title">&lt;b&gt;Sample&lt;/b&gt;</h2>' in page
    assert 'src="https://bucket.s3.us-east-1.amazonaws.com/videos/a%20b.mp4"' in page
    same = preview.render(
        json.loads(task()["Input"]),
        grant_read_access=lambda _: "https://bucket.s3.us-east-1.amazonaws.com/videos/a%20b.mp4",
    )
    assert page == same


def test_template_errors_come_back_in_errors(sm, role):
    cases = {
        "{% if %}broken{% endif %}": render.SYNTAX_ERROR,
        "{{ task.input.video.titel }}": render.UNDEFINED_VARIABLE,
        "{{ task.input.video.title | shout }}": render.UNKNOWN_FILTER,
    }
    for content, code in cases.items():
        out = sm.render_ui_template(UiTemplate={"Content": content}, Task=task(), RoleArn=role)
        assert out["RenderedContent"] == ""
        [error] = out["Errors"]
        assert error["Code"] == code, content
        assert "line 1" in error["Message"]


def test_requests_aws_would_refuse(sm, role):
    with pytest.raises(ClientError) as both:
        sm.render_ui_template(
            UiTemplate={"Content": "<p/>"},
            HumanTaskUiArn="arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/x",
            Task=task(),
            RoleArn=role,
        )
    assert code_of(both) == "ValidationException"
    with pytest.raises(ClientError) as missing:
        sm.render_ui_template(
            HumanTaskUiArn="arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/nope",
            Task=task(),
            RoleArn=role,
        )
    assert code_of(missing) == "ResourceNotFound"
    with pytest.raises(ClientError) as bad_json:
        sm.render_ui_template(UiTemplate={"Content": "<p/>"}, Task={"Input": "{no"}, RoleArn=role)
    assert code_of(bad_json) == "ValidationException" and "not valid JSON" in str(bad_json.value)
    with pytest.raises(ClientError) as no_role:
        sm.render_ui_template(
            UiTemplate={"Content": "<p/>"},
            Task=task(),
            RoleArn="arn:aws:iam::123456789012:role/NoSuchRole",
        )
    assert code_of(no_role) == "ValidationException"
    with pytest.raises(ClientError) as too_long:
        sm.render_ui_template(UiTemplate={"Content": "x" * 128_001}, Task=task(), RoleArn=role)
    assert code_of(too_long) == "ValidationException" and "128000" in str(too_long.value)
