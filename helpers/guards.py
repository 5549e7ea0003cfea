"""Checks clean up makes before it removes something another run, or another region, still needs.

- :func:`runs_still_in_review`: the other kit runs whose human loops on the same bucket are
  still open. While there is one, the bucket's CORS rule (which the reviewer's page of every
  run on the bucket relies on) stays: one run's clean up must not break another run's review.
- :func:`notice_topic_regions` and :func:`delete_notices_everywhere`: a run's job notice topic
  and queue are found and removed in whatever region they were made (the session's region,
  the regions recorded in the run's state, or every region SNS has when asked).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from helpers.names import NAME_PREFIX

log = logging.getLogger(__name__)

#: Human loop states in which a reviewer may still open the task (the page needs CORS).
OPEN_LOOP_STATES = ("InProgress",)
#: Answers of a region the account has not opted in to (or may not use): skipped.
SKIPPED_REGION_CODES = ("InvalidClientTokenId", "AuthorizationError", "UnrecognizedClientException")
#: Where the run's state records the regions its notice topics were made in.
NOTICE_REGIONS_KEY = "notice_regions"


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        out.extend(page.get(key, []))
    return out


def run_id_of_flow(name: str) -> str | None:
    """The run id in a kit flow definition name ``vmk-flow-<run id>-<hash>``, else None."""
    parts = name.split("-")
    if len(parts) >= 3 and parts[0] == NAME_PREFIX and parts[1] == "flow":
        return parts[2]
    return None


def _bucket_of(s3_uri: str) -> str:
    return s3_uri.removeprefix("s3://").split("/", 1)[0]


def runs_still_in_review(sagemaker: Any, a2i: Any, bucket: str, run_id: str | None) -> list[str]:
    """The ids of the kit's *other* runs with a human loop still open on ``bucket``.

    A run's loops are found from AWS (its flow definitions ``vmk-flow-<run id>-*`` whose
    output goes to ``bucket``), not from a local state file, so runs started from another
    kernel, folder or machine count too. ``run_id=None`` (clean up of every run) returns [].
    Clean up should keep the bucket's CORS rule while this is not empty, and say why.
    """
    if run_id is None:
        return []
    busy: set[str] = set()
    for flow in _pages(sagemaker, "list_flow_definitions", "FlowDefinitionSummaries"):
        other = run_id_of_flow(flow["FlowDefinitionName"])
        if other is None or other == run_id or other in busy:
            continue
        try:
            desc = sagemaker.describe_flow_definition(FlowDefinitionName=flow["FlowDefinitionName"])
        except sagemaker.exceptions.ResourceNotFound:
            continue  # deleted meanwhile
        if _bucket_of(desc.get("OutputConfig", {}).get("S3OutputPath", "")) != bucket:
            continue
        arn = flow["FlowDefinitionArn"]
        loops = _pages(a2i, "list_human_loops", "HumanLoopSummaries", FlowDefinitionArn=arn)
        if any(loop.get("HumanLoopStatus") in OPEN_LOOP_STATES for loop in loops):
            busy.add(other)
    return sorted(busy)


def cors_kept_because(runs: Iterable[str], bucket: str) -> str:
    """The sentence clean up shows when it keeps the CORS rule for other runs."""
    names = ", ".join(f"`{r}`" for r in runs)
    return (
        f"kept the CORS rule of bucket `{bucket}`: run(s) {names} still have human loops in "
        "review, and their reviewer page needs it; the last run's clean up removes it (or "
        "clean up with all_runs=True)"
    )


def notice_topic_regions(
    boto_session: Any,
    session_region: str,
    recorded: Iterable[str] = (),
    *,
    everywhere: bool = False,
) -> list[str]:
    """The regions to look in for a run's notice topics and queues, session's region first.

    ``recorded`` are the regions the run's state names (key :data:`NOTICE_REGIONS_KEY`; record
    a topic's region when it is made: ``topic_region(arn)``). ``everywhere=True`` adds every
    region where the session's partition has SNS (slower: one ListTopics per region).
    """
    regions = [session_region, *recorded]
    if everywhere:
        regions += boto_session.get_available_regions("sns")
    return list(dict.fromkeys(r for r in regions if r))


def topic_region(topic_arn: str) -> str:
    """The region of an SNS topic ARN (``arn:aws:sns:<region>:<account>:<name>``)."""
    return topic_arn.split(":")[3]


def remember_notice_region(topic_arn: str) -> list[str]:
    """Record the region of a notice topic the run made in the run's state; return them all.

    Call it right after creating the topic, so clean up looks there even when the session's
    region later differs (locked update: another kernel's keys are kept).
    """
    from helpers import state

    region = topic_region(topic_arn)

    def add(recorded: dict[str, Any]) -> None:
        regions = recorded.setdefault(NOTICE_REGIONS_KEY, [])
        if region not in regions:
            regions.append(region)

    return list(state.update(add)[NOTICE_REGIONS_KEY])


def delete_notices_everywhere(
    boto_session: Any,
    run_id: str | None,
    regions: Iterable[str],
    *,
    dry_run: bool = False,
    config: Any = None,
) -> list[str]:
    """Delete the run's (or every run's) notice topics and queues in each of ``regions``.

    Returns what was (or, with ``dry_run``, would be) deleted: topic ARNs and queue URLs.
    A region where the caller may not list topics is skipped with a log line, not an error.
    """
    from botocore.exceptions import ClientError

    from helpers import notify

    gone: list[str] = []
    for region in regions:
        sns = boto_session.client("sns", region_name=region, config=config)
        sqs = boto_session.client("sqs", region_name=region, config=config)
        try:
            gone += notify.delete_notices(sns, sqs, run_id, dry_run=dry_run)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code in SKIPPED_REGION_CODES:
                log.info("notice topics in %s not reachable (%s): skipped", region, code)
                continue
            raise
    return gone
