"""Teardown: remove everything the kit created for a run (or for every run), safely twice.

Resources are found by name prefix (every kit name starts ``vmk-<purpose>-<run id>``) and S3
objects by the run's key prefix, so teardown works from a fresh kernel after a crash. In-flight
human loops are stopped before their flow definition is deleted (A2I refuses otherwise).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from helpers import cors, notify
from helpers.names import NAME_PREFIX
from helpers.waiting import Backoff, wait_until

log = logging.getLogger(__name__)


@dataclass
class Action:
    kind: str
    name: str
    action: str
    done: bool = False


def _paginate(client: Any, op: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in client.get_paginator(op).paginate(**kwargs):
        out.extend(page.get(key, []))
    return out


def teardown(
    sagemaker: Any,
    a2i: Any,
    s3: Any,
    bucket: str,
    run_id: str | None,
    *,
    dry_run: bool = False,
    timeout: float = 600.0,
    sns: Any = None,
    sqs: Any = None,
) -> pd.DataFrame:
    """Delete the run's human loops, flow definitions, task UIs, S3 objects and CORS rule.

    ``run_id=None`` removes what every run of the kit left in this account and region.
    With ``dry_run=True`` nothing is changed and the frame lists what would be deleted.
    Given ``sns`` and ``sqs`` clients, the job notification topics and queues go too.
    Returns one row per resource: kind, name, action, done.
    """
    scope = f"{run_id}-" if run_id else ""
    actions: list[Action] = []

    flows = [
        f
        for f in _paginate(sagemaker, "list_flow_definitions", "FlowDefinitionSummaries")
        if f["FlowDefinitionName"].startswith(f"{NAME_PREFIX}-flow-{scope}")
    ]
    for flow in flows:
        loops = _paginate(
            a2i,
            "list_human_loops",
            "HumanLoopSummaries",
            FlowDefinitionArn=flow["FlowDefinitionArn"],
        )
        for loop in loops:
            actions.append(_remove_loop(a2i, loop, dry_run, timeout))
        actions.append(_remove_flow(sagemaker, flow["FlowDefinitionName"], dry_run, timeout))

    for ui in _paginate(sagemaker, "list_human_task_uis", "HumanTaskUiSummaries"):
        name = ui["HumanTaskUiName"]
        if name.startswith(f"{NAME_PREFIX}-ui-{scope}"):
            if not dry_run:
                _ignore_missing(lambda n=name: sagemaker.delete_human_task_ui(HumanTaskUiName=n))
            actions.append(Action("human task UI", name, "delete", not dry_run))

    prefix = f"video-moderation-kit/{run_id}/" if run_id else "video-moderation-kit/"
    actions.extend(_remove_objects(s3, bucket, prefix, dry_run))
    if sns is not None and sqs is not None:
        for name in notify.delete_notices(sns, sqs, run_id, dry_run=dry_run):
            kind = "SNS topic" if name.startswith("arn:") else "SQS queue"
            actions.append(Action(kind, name, "delete", not dry_run))
    if cors.remove_cors(s3, bucket, dry_run=dry_run):
        actions.append(Action("bucket CORS rule", cors.RULE_ID, "remove", not dry_run))

    frame = pd.DataFrame([a.__dict__ for a in actions], columns=["kind", "name", "action", "done"])
    log.info("teardown %s: %d resources", "planned" if dry_run else "done", len(frame))
    return frame


def _ignore_missing(call: Any) -> None:
    try:
        call()
    except ClientError as err:
        if err.response["Error"]["Code"] not in (
            "ResourceNotFound",
            "ResourceNotFoundException",
            "NoSuchKey",
        ):
            raise


def _remove_loop(a2i: Any, loop: dict[str, Any], dry_run: bool, timeout: float) -> Action:
    name, status = loop["HumanLoopName"], loop["HumanLoopStatus"]
    action = "stop and delete" if status in ("InProgress", "Stopping") else "delete"
    if dry_run:
        return Action("human loop", name, action)
    if status == "InProgress":
        _ignore_missing(lambda: a2i.stop_human_loop(HumanLoopName=name))
    if status in ("InProgress", "Stopping"):
        wait_until(
            lambda: _loop_status(a2i, name),
            lambda s: s in ("Stopped", "Completed", "Failed", None),
            what=f"Human loop `{name}` stopping",
            timeout=timeout,
            advice="run clean up again in a minute; A2I stops loops asynchronously",
            backoff=Backoff(first=0.5, cap=10.0),
        )
    _ignore_missing(lambda: a2i.delete_human_loop(HumanLoopName=name))
    return Action("human loop", name, action, True)


def _loop_status(a2i: Any, name: str) -> str | None:
    try:
        return a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"]
    except ClientError as err:
        if err.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def _remove_flow(sagemaker: Any, name: str, dry_run: bool, timeout: float) -> Action:
    if dry_run:
        return Action("flow definition", name, "delete")
    _ignore_missing(lambda: sagemaker.delete_flow_definition(FlowDefinitionName=name))

    def gone() -> bool:
        try:
            sagemaker.describe_flow_definition(FlowDefinitionName=name)
            return False
        except ClientError as err:
            if err.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"):
                return True
            raise

    wait_until(
        gone,
        bool,
        what=f"Flow definition `{name}` being deleted",
        timeout=timeout,
        advice="A2I deletes flow definitions asynchronously; run clean up again later",
        backoff=Backoff(first=0.5, cap=10.0),
    )
    return Action("flow definition", name, "delete", True)


def _remove_objects(s3: Any, bucket: str, prefix: str, dry_run: bool) -> list[Action]:
    try:
        objects = _paginate(s3, "list_objects_v2", "Contents", Bucket=bucket, Prefix=prefix)
    except ClientError as err:
        if err.response["Error"]["Code"] == "NoSuchBucket":
            return []
        raise
    keys = [o["Key"] for o in objects]
    if keys and not dry_run:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
    return [Action("S3 object", f"s3://{bucket}/{k}", "delete", not dry_run) for k in keys]


def inventory(
    sagemaker: Any, a2i: Any, s3: Any, sns: Any = None, sqs: Any = None
) -> dict[str, int]:
    """How many resources of every kit run exist in the account and region, by kind.

    Counts by the kit's name prefixes, in every bucket, so a test can check that teardown left
    nothing behind whatever failed before it.
    """
    flows = [
        f
        for f in _paginate(sagemaker, "list_flow_definitions", "FlowDefinitionSummaries")
        if f["FlowDefinitionName"].startswith(f"{NAME_PREFIX}-")
    ]
    loops = sum(
        len(
            _paginate(
                a2i,
                "list_human_loops",
                "HumanLoopSummaries",
                FlowDefinitionArn=f["FlowDefinitionArn"],
            )
        )
        for f in flows
    )
    uis = [
        u
        for u in _paginate(sagemaker, "list_human_task_uis", "HumanTaskUiSummaries")
        if u["HumanTaskUiName"].startswith(f"{NAME_PREFIX}-")
    ]
    objects = 0
    for bucket in s3.list_buckets().get("Buckets", []):
        objects += len(
            _paginate(
                s3,
                "list_objects_v2",
                "Contents",
                Bucket=bucket["Name"],
                Prefix="video-moderation-kit/",
            )
        )
    counts = {
        "human task UIs": len(uis),
        "flow definitions": len(flows),
        "human loops": loops,
        "S3 objects": objects,
    }
    if sns is not None and sqs is not None:
        counts["notice topics and queues"] = len(
            notify.delete_notices(sns, sqs, None, dry_run=True)
        )
    return counts
