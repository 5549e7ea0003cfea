"""Teardown: remove everything the kit created for a run (or for every run), safely twice.

Resources are found by name prefix (every kit name starts ``vmk-<purpose>-<run id>``) and S3
objects by the run's key prefix, so teardown works from a fresh kernel after a crash. In-flight
human loops are stopped before their flow definition is deleted (A2I refuses otherwise).

The reviewers' work is kept: :func:`export_results` first writes every completed loop's
verdicts and raw output.json to ``results/<run id>/``, and A2I's output in S3 (the run's
``a2i-output/`` keys) stays unless ``delete_answers=True`` is given; the dry run lists it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from helpers import cors, guards, learn_store, loops, notify
from helpers.errors import KitError, kit_step
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
    delete_answers: bool = False,
    boto_session: Any = None,
    notice_regions: Iterable[str] = (),
) -> pd.DataFrame:
    """Delete the run's human loops, flow definitions, task UIs, S3 objects and CORS rule.

    A2I's output (keys with ``/a2i-output/``) is kept and listed with the action ``keep``,
    unless ``delete_answers=True``: export it first (:func:`export_results`).

    ``run_id=None`` removes what every run of the kit left in this account and region.
    With ``dry_run=True`` nothing is changed and the frame lists what would be deleted.
    Given ``sns`` and ``sqs`` clients, the job notification topics and queues go too: in the
    clients' region and in every region the run's state recorded a topic in
    (:func:`helpers.guards.notice_topic_regions`; ``notice_regions`` adds more, and
    ``boto_session`` makes the other regions' clients, else one like ``sns`` is made).
    The bucket's CORS rule stays while another run on the bucket still has a loop in review
    (:func:`helpers.guards.runs_still_in_review`); its row says so (action ``keep (…)``).
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
    actions.extend(_remove_objects(s3, bucket, prefix, dry_run, delete_answers))
    if sns is not None and sqs is not None:
        for name in _remove_notices(sns, sqs, run_id, dry_run, boto_session, notice_regions):
            kind = "SNS topic" if name.startswith("arn:") else "SQS queue"
            actions.append(Action(kind, name, "delete", not dry_run))
    others = guards.runs_still_in_review(sagemaker, a2i, bucket, run_id)
    if others:
        if cors.remove_cors(s3, bucket, dry_run=True):
            why = guards.cors_kept_because(others, bucket)
            actions.append(Action("bucket CORS rule", cors.RULE_ID, f"keep ({why})"))
    elif cors.remove_cors(s3, bucket, dry_run=dry_run):
        actions.append(Action("bucket CORS rule", cors.RULE_ID, "remove", not dry_run))

    frame = pd.DataFrame([a.__dict__ for a in actions], columns=["kind", "name", "action", "done"])
    log.info("teardown %s: %d resources", "planned" if dry_run else "done", len(frame))
    return frame


def _recorded_notice_regions() -> list[str]:
    """The regions the run's state recorded notice topics in; none when it cannot be read."""
    from helpers import state

    try:
        return list(state.load().get(guards.NOTICE_REGIONS_KEY, []))
    except KitError as err:  # clean up goes on without the state file (it finds by name)
        log.warning("notice regions not read from the run's state: %s", err)
        return []


def _session_like(client: Any) -> Any:
    """A boto3 session with ``client``'s credentials, to make clients of other regions."""
    from helpers.session import new_boto_session

    credentials = client._request_signer._credentials
    if credentials is None:
        return new_boto_session()
    frozen = credentials.get_frozen_credentials()
    return new_boto_session(
        aws_access_key_id=frozen.access_key,
        aws_secret_access_key=frozen.secret_key,
        aws_session_token=frozen.token,
    )


def _remove_notices(
    sns: Any,
    sqs: Any,
    run_id: str | None,
    dry_run: bool,
    boto_session: Any,
    extra_regions: Iterable[str],
) -> list[str]:
    """Delete the run's notice topics and queues in the clients' region and every recorded one."""
    gone = notify.delete_notices(sns, sqs, run_id, dry_run=dry_run)
    here = sns.meta.region_name
    recorded = [*_recorded_notice_regions(), *extra_regions]
    regions = guards.notice_topic_regions(boto_session, here, recorded)[1:]
    if regions:
        bs = boto_session or _session_like(sns)
        gone += guards.delete_notices_everywhere(
            bs, run_id, regions, dry_run=dry_run, config=sns.meta.config
        )
    return gone


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


ANSWERS_PART = "/a2i-output/"
#: The :func:`inventory` key of A2I's output objects, which clean up keeps unless asked.
ANSWERS_KEPT = "A2I answers kept in S3"


def _remove_objects(
    s3: Any, bucket: str, prefix: str, dry_run: bool, delete_answers: bool = True
) -> list[Action]:
    try:
        objects = _paginate(s3, "list_objects_v2", "Contents", Bucket=bucket, Prefix=prefix)
    except ClientError as err:
        if err.response["Error"]["Code"] == "NoSuchBucket":
            return []
        raise
    keys = [o["Key"] for o in objects]
    kept = [] if delete_answers else [k for k in keys if ANSWERS_PART in k]
    keys = [k for k in keys if k not in set(kept)]
    keep = [
        Action("S3 object (answers)", f"s3://{bucket}/{k}", "keep (delete_answers=True)")
        for k in kept
    ]
    if keys and not dry_run:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
    return [Action("S3 object", f"s3://{bucket}/{k}", "delete", not dry_run) for k in keys] + keep


def inventory(
    sagemaker: Any, a2i: Any, s3: Any, sns: Any = None, sqs: Any = None
) -> dict[str, int]:
    """How many resources of every kit run exist in the account and region, by kind.

    Counts by the kit's name prefixes, in every bucket, so a test can check that teardown left
    nothing behind whatever failed before it. A2I's answers, kept on purpose, are counted apart
    (:data:`ANSWERS_KEPT`).
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
    objects = answers = 0
    for bucket in s3.list_buckets().get("Buckets", []):
        keys = [
            o["Key"]
            for o in _paginate(
                s3,
                "list_objects_v2",
                "Contents",
                Bucket=bucket["Name"],
                Prefix="video-moderation-kit/",
            )
        ]
        objects += len(keys)
        answers += sum(ANSWERS_PART in k for k in keys)
    counts = {
        "human task UIs": len(uis),
        "flow definitions": len(flows),
        "human loops": loops,
        "S3 objects": objects - answers,
        ANSWERS_KEPT: answers,
    }
    if sns is not None and sqs is not None:
        counts["notice topics and queues"] = len(
            notify.delete_notices(sns, sqs, None, dry_run=True)
        )
    return counts


@kit_step
def export_results(
    sagemaker: Any, a2i: Any, s3: Any, run_id: str, folder: str | Path | None = None
) -> pd.DataFrame:
    """Write the run's verdicts and raw output.json files to ``<folder>/<run id>/``.

    ``folder`` is the results store's root (:func:`helpers.learn_store.default_root`:
    ``$VMK_RESULTS_DIR``, else ``results/`` in the kit's checkout), so what clean up exports is
    what notebook 08 learns from. Every loop of the run is found from A2I
    (:func:`helpers.loops.of_run`) and every completed loop's output is saved as A2I wrote it
    (``raw/<loop>.json``, readable or not). ``verdicts.csv`` (for people and spreadsheets) and
    ``verdicts.parquet`` (the store's file, :func:`helpers.learn_store.save_run`) are then made
    from every raw file in the folder, so running clean up again after the loops are gone keeps
    what was exported; ``problems.csv`` lists the loops without verdicts. Returns one row per
    file; ``attrs["folder"]`` is the folder's absolute path.
    """
    names = list(loops.of_run(sagemaker, a2i, run_id)["HumanLoopName"])
    found = loops.read(s3, a2i, names)
    target = learn_store.default_root(folder) / learn_store.check_run_id(run_id)
    (target / "raw").mkdir(parents=True, exist_ok=True)
    for name, body in found.raw.items():
        (target / "raw" / f"{name}.json").write_bytes(body)
    raws = sorted((target / "raw").glob("*.json"))
    outputs, unreadable = loops.parse_outputs({p.stem: p.read_bytes() for p in raws})
    written = [{"file": str(p), "what": f"output.json of {p.stem}"} for p in raws]
    frame = loops.verdicts(outputs)
    frame.to_csv(target / "verdicts.csv", index=False)
    written.append({"file": str(target / "verdicts.csv"), "what": f"{len(frame)} verdict rows"})
    stored = learn_store.read_outputs((run_id, p.name, p.read_bytes()) for p in raws).verdicts
    if len(stored):
        path = learn_store.save_run(stored, run_id, target.parent)
        what = f"{len(stored)} verdict rows for learning (notebook 08)"
        written.append({"file": str(path), "what": what})
    if names or not (target / "problems.csv").exists():
        problems = pd.concat([found.problems, unreadable]).drop_duplicates("HumanLoopName")
        problems.to_csv(target / "problems.csv", index=False)
        what = f"{len(problems)} loop(s) without verdicts"
        written.append({"file": str(target / "problems.csv"), "what": what})
    log.info("exported %d loop output(s) to %s", len(raws), target)
    frame = pd.DataFrame(written, columns=["file", "what"])
    frame.attrs["folder"] = str(target.resolve())
    return frame


def left_behind(frame: pd.DataFrame, run_id: str) -> str | pd.DataFrame:
    """What a dry run still finds, or a sentence when nothing billable or named is left.

    Kept answers (A2I's output in S3, kept on purpose) do not count as left behind.
    """
    rest = frame[~frame["action"].str.startswith("keep")]
    if rest.empty:
        kept = len(frame) - len(rest)
        tail = f"; {kept} answer file(s) stay in S3 as asked" if kept else ""
        return f"Nothing of run {run_id} is left behind{tail}."
    return rest
