"""Every notebook run twice in a row: no error, no duplicate resources, nothing left behind."""

from pathlib import Path

import boto3
import pytest

from helpers import demo
from helpers.offline import OfflineSettings


def _count(server) -> dict[str, int]:
    """What the kit's run left in the stand-in: resources by kind."""
    kw = {
        "endpoint_url": server.endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": server.env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": server.env["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": server.env["AWS_SESSION_TOKEN"],
    }
    sm = boto3.client("sagemaker", **kw)
    a2i = boto3.client("sagemaker-a2i-runtime", **kw)
    s3 = boto3.client("s3", **kw)
    flows = sm.list_flow_definitions()["FlowDefinitionSummaries"]
    loops = sum(
        len(a2i.list_human_loops(FlowDefinitionArn=f["FlowDefinitionArn"])["HumanLoopSummaries"])
        for f in flows
    )
    objects = sum(
        s3.list_objects_v2(Bucket=b["Name"], Prefix="video-moderation-kit/").get("KeyCount", 0)
        for b in s3.list_buckets()["Buckets"]
    )
    return {
        "task UIs": len(sm.list_human_task_uis()["HumanTaskUiSummaries"]),
        "flow definitions": len(flows),
        "human loops": loops,
        "objects": objects,
    }


@pytest.mark.notebooks
def test_every_notebook_twice_in_a_row(tmp_path):
    seen: dict[str, dict[str, int]] = {}

    def inspect(path: Path, server) -> None:
        seen[path.name] = _count(server)

    paths = [p for p in demo.notebook_paths() for _ in range(2)]
    settings = OfflineSettings(
        job_seconds=0,
        flow_definition_seconds=0,
        flow_definition_delete_seconds=0,
        loop_stop_seconds=0,
        answer_after_describes=1,
    )
    _, problems, state, _ = demo.execute(paths, tmp_path, settings, quiet=True, after_each=inspect)
    assert problems == []
    # after the review set-up and the reviews, each ran twice: one of each, not two
    assert seen["03_set_up_human_review.ipynb"]["task UIs"] == 1
    assert seen["03_set_up_human_review.ipynb"]["flow definitions"] == 1
    assert seen["04_review_with_human_loop.ipynb"]["human loops"] == 1
    many = len(state["many_review"]["loops"])
    assert seen["06_many_videos.ipynb"]["human loops"] == 1 + many
    assert seen["07_clean_up.ipynb"] == {
        "task UIs": 0,
        "flow definitions": 0,
        "human loops": 0,
        "objects": 0,
    }
