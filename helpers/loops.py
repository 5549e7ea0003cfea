"""The run's human loops, found from AWS: started once, superseded safely, waited for, read.

A reviewer's verdicts are the loop's product, so nothing here trusts the local state file to
know which loops exist. :func:`of_run` lists them from A2I (ListHumanLoops for each of the run's
flow definitions, filtered by the run's names); :func:`read` reads every completed loop and
puts every other one in a separate table of problems with advice, never all or nothing.

Loop names are ``vmk-loop-<run id>-<video>-<input hash>``: the video part lets a re-run of
notebook 4 with other rules find (and stop, when still unanswered) the previous loop of the same
video; the input hash makes starting twice find the same loop instead of paying twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from helpers import answers, checks, review
from helpers.errors import InputError, WaitTimeout, kit_step
from helpers.names import NAME_PREFIX, check_a2i_name, resource_name
from helpers.progress import Progress
from helpers.provision import content_hash
from helpers.waiting import Backoff, wait_until

log = logging.getLogger(__name__)

FINAL = ("Completed", "Failed", "Stopped")
#: Columns of :func:`of_run`.
LOOP_COLUMNS = ["HumanLoopName", "HumanLoopStatus", "video", "CreationTime", "FailureReason"]
#: The advice for a completed loop whose output.json cannot be used.
UNREADABLE = (
    "the raw file is kept (clean up exports it to results/); check that the flow definition "
    "uses the kit's reviewer page (templates/reviewer/)"
)
#: Columns of :attr:`Outputs.problems`.
PROBLEM_COLUMNS = ["HumanLoopName", "status", "problem", "advice"]


def video_id(video_s3_uri: str) -> str:
    """Six hex characters naming a video in its loops' names (a hash of its S3 URI)."""
    return content_hash(video_s3_uri)[:6]


def loop_name(run_id: str, video_s3_uri: str, input_content: str) -> str:
    """``vmk-loop-<run id>-<video>-<hash of the input>``, checked against A2I's name rules."""
    name = resource_name("loop", run_id, f"{video_id(video_s3_uri)}-{content_hash(input_content)}")
    return check_a2i_name(name, "loop name")


def requests(
    items: pd.DataFrame,
    *,
    run_id: str,
    video: dict[str, Any],
    duration_ms: int,
    rules_name: str,
    audit: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """One ``{HumanLoopName, InputContent, items, window}`` per loop the items need.

    One loop takes every item unless its input would exceed A2I's InputContent limit; then the
    review is split by time window (see :func:`helpers.review.plan_loop_inputs`) and a warning
    says so. ``video`` has ``s3_uri`` and ``title``. No items, no loop.

    ``audit`` (:func:`helpers.learn.audit_sample`) joins the review like any other item and is
    marked in the input (:func:`helpers.learn.mark_audit`: ``"audit": true`` on each audit
    item, the strata beside the items); the windows leave room for the marks.

    Each ``InputContent`` is checked (:func:`helpers.checks.loop_input`, through
    :func:`helpers.review.input_content`) before it is named or sent: strict JSON (no NaN or
    Infinity), no negative time. A bad one raises an InputError here, before StartHumanLoop.
    """
    duration_ms = checks.duration_ms(duration_ms, "duration_ms")
    audit = audit if audit is not None and len(audit) else None
    if audit is not None:
        items = pd.concat([items, audit[items.columns]], ignore_index=True)
    if items.empty:
        return []
    strata = 0 if audit is None else audit.groupby(["category", "reason"]).ngroups
    room = 0 if audit is None else 16 * len(audit) + 200 * strata + 64  # the marks' characters
    docs = review.plan_loop_inputs(
        items,
        video_s3_uri=video["s3_uri"],
        title=video["title"],
        duration_ms=int(duration_ms),
        rules_name=rules_name,
        max_chars=review.MAX_INPUT_CHARS - room,
    )
    if audit is not None:
        from helpers import learn

        docs = learn.mark_audit(docs, audit)
    if len(docs) > 1:
        log.warning(
            "review split into %d loops by time window: %d items do not fit in one loop "
            "(A2I's InputContent takes at most %s characters)",
            len(docs),
            len(items),
            f"{review.MAX_INPUT_CHARS:,}",
        )
    out = []
    for doc in docs:
        content = review.input_content(doc)
        out.append(
            {
                "HumanLoopName": loop_name(run_id, video["s3_uri"], content),
                "InputContent": content,
                "items": len(doc["items"]),
                "window": doc.get("window"),
            }
        )
    return out


@kit_step
def status(a2i: Any, name: str) -> str | None:
    """The loop's HumanLoopStatus, or None when there is no such loop (start it then)."""
    try:
        return a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"]
    except ClientError as err:
        if err.response["Error"]["Code"] in ("ResourceNotFoundException", "ResourceNotFound"):
            return None
        raise


def _paginate(client: Any, op: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in client.get_paginator(op).paginate(**kwargs):
        out.extend(page.get(key, []))
    return out


def flow_definitions_of_run(sagemaker: Any, run_id: str) -> list[dict[str, Any]]:
    """The run's flow definitions (every version the notebooks created), oldest first."""
    prefix = f"{NAME_PREFIX}-flow-{run_id}-"
    flows = _paginate(sagemaker, "list_flow_definitions", "FlowDefinitionSummaries")
    flows = [f for f in flows if f["FlowDefinitionName"].startswith(prefix)]
    return sorted(flows, key=lambda f: str(f.get("CreationTime", "")))


@kit_step
def of_run(sagemaker: Any, a2i: Any, run_id: str) -> pd.DataFrame:
    """Every human loop of the run, from A2I: whichever rules or flow definition started it.

    One row per loop (:data:`LOOP_COLUMNS`), oldest first; ``video`` is the video part of
    the name (:func:`video_id`).
    """
    prefix = f"{NAME_PREFIX}-loop-{run_id}-"
    rows = []
    for flow in flow_definitions_of_run(sagemaker, run_id):
        for loop in _paginate(
            a2i,
            "list_human_loops",
            "HumanLoopSummaries",
            FlowDefinitionArn=flow["FlowDefinitionArn"],
            SortOrder="Ascending",
        ):
            name = loop["HumanLoopName"]
            if name.startswith(prefix):
                rows.append(
                    {
                        "HumanLoopName": name,
                        "HumanLoopStatus": loop["HumanLoopStatus"],
                        "video": name[len(prefix) :].split("-")[0],
                        "CreationTime": loop.get("CreationTime"),
                        "FailureReason": loop.get("FailureReason", ""),
                    }
                )
    return pd.DataFrame(rows, columns=LOOP_COLUMNS)


@kit_step
def stop_superseded(
    sagemaker: Any, a2i: Any, run_id: str, video_s3_uri: str, keep: list[str]
) -> pd.DataFrame:
    """Stop the video's earlier loops that nobody answered yet; keep the answered ones.

    Re-running notebook 4 with other rules or another gap starts a new loop for the same video;
    the earlier loop, still InProgress, would only make a reviewer judge the video twice. An
    earlier loop that a reviewer completed is kept: its verdicts are read with the others.
    Returns one row per earlier loop: name, status and what was done.
    """
    loops = of_run(sagemaker, a2i, run_id)
    earlier = loops[(loops["video"] == video_id(video_s3_uri)) & ~loops["HumanLoopName"].isin(keep)]
    rows = []
    for name, state in zip(earlier["HumanLoopName"], earlier["HumanLoopStatus"], strict=True):
        if state == "InProgress":
            a2i.stop_human_loop(HumanLoopName=name)
            action = "stopped: not answered, replaced by the new review"
            log.info("stopped human loop %s: not answered yet, replaced by the new one", name)
        elif state == "Completed":
            action = "kept: answered, its verdicts are read in notebook 5"
        else:
            action = "left as it is"
        rows.append({"HumanLoopName": name, "HumanLoopStatus": state, "action": action})
    return pd.DataFrame(rows, columns=["HumanLoopName", "HumanLoopStatus", "action"])


@kit_step
def wait(a2i: Any, names: list[str], *, timeout: float = 3600.0) -> pd.DataFrame:
    """Wait until every loop has ended (Completed, Failed or Stopped); one row per loop.

    The loops are awaited together: each check describes every loop that has not ended yet, so
    several reviews done in parallel take as long as the slowest, not their sum. A loop that
    failed or expired does not stop the wait for the others: the table says how each ended
    (notebook 5 reads every completed one and explains the others).
    """
    latest: dict[str, dict[str, Any]] = {}

    def describe_pending() -> dict[str, dict[str, Any]]:
        for name in names:
            if latest.get(name, {}).get("HumanLoopStatus") not in FINAL:
                latest[name] = a2i.describe_human_loop(HumanLoopName=name)
        return latest

    def ended(descs: dict[str, dict[str, Any]]) -> bool:
        return all(d["HumanLoopStatus"] in FINAL for d in descs.values())

    def phase(descs: dict[str, dict[str, Any]]) -> str:
        if len(descs) == 1:
            return next(iter(descs.values()))["HumanLoopStatus"]
        done = sum(d["HumanLoopStatus"] in FINAL for d in descs.values())
        return "ended" if done == len(descs) else f"{done} of {len(descs)} ended"

    label = f"Human loop {names[0]}" if len(names) == 1 else f"{len(names)} human loops"
    if names:
        wait_until(
            describe_pending,
            ended,
            what=f"{label} being completed by a reviewer",
            timeout=timeout,
            advice="open the worker portal printed above and submit the task(s), then run this "
            "cell again (nothing is lost)",
            # a reviewer's submit is noticed within a tenth of a second at first (a reviewer
            # who was already at work), then ever less often (DescribeHumanLoop is free; about
            # 30 checks over a 10-minute review)
            backoff=Backoff(first=0.1, cap=30.0),
            on_poll=Progress(label, timeout, phase),
        )
    rows = [
        {
            "HumanLoopName": name,
            "HumanLoopStatus": latest[name]["HumanLoopStatus"],
            "FailureCode": latest[name].get("FailureCode", ""),
        }
        for name in names
    ]
    return pd.DataFrame(rows, columns=["HumanLoopName", "HumanLoopStatus", "FailureCode"])


# --- reading the answers -------------------------------------------------------------------------


@dataclass
class Outputs:
    """Every completed loop's output.json, and a table of the loops that gave no verdicts."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    #: The raw bytes of each readable output.json, by loop name (exported by clean up).
    raw: dict[str, bytes] = field(default_factory=dict)
    #: Where each loop's output.json is, by loop name.
    uris: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Outputs({len(self.outputs)} loop(s) with verdicts, {len(self.problems)} without)"


def advice_for(desc: dict[str, Any]) -> tuple[str, str]:
    """(problem, advice) for a loop that has no verdicts to read, by how it ended."""
    state, code = desc["HumanLoopStatus"], desc.get("FailureCode", "")
    reason = desc.get("FailureReason", "")
    if code == "Expired" or "expire" in reason.lower():
        return (
            f"expired: nobody took the task in time ({reason or 'Expired'})",
            "no reviewer will come for this loop: start a new loop (re-run notebook 4's start "
            "cell) and review it within TaskAvailabilityLifetimeInSeconds",
        )
    if state == "Failed":
        return (
            f"failed: {reason or 'no reason given'}",
            "check that the flow definition's role may read the video and write the output "
            "path, then start a new loop (re-run notebook 4's start cell)",
        )
    if state in ("Stopped", "Stopping"):
        return (
            "stopped before a reviewer submitted it",
            "nothing to read; a newer loop of the same video replaced it, or start a new one",
        )
    return (
        f"{state}: no reviewer has submitted it yet",
        "open the worker portal and submit the task, then run notebook 4's waiting cell",
    )


def _load_output(body: bytes, name: str) -> dict[str, Any]:
    """Parse and check one output.json; raise InputError naming what is wrong."""
    try:
        doc = json.loads(body)
    except ValueError as err:
        raise InputError(f"output.json is not JSON ({err})", "") from None
    if not isinstance(doc, dict):
        raise InputError("output.json is not a JSON object", "")
    content = doc.get("inputContent")
    if not isinstance(content, dict) or not isinstance(content.get("items"), list):
        raise InputError("output.json lacks inputContent (the loop's items)", "")
    if not isinstance(doc.get("humanAnswers"), list) or not doc["humanAnswers"]:
        raise InputError("output.json lacks humanAnswers (no reviewer's answer)", "")
    doc.setdefault("humanLoopName", name)
    review.answers_frame(doc)  # every answer follows the reviewer page's schema, or raises
    return doc


@kit_step
def read(s3: Any, a2i: Any, names: list[str]) -> Outputs:
    """Read the output.json of every loop in ``names`` that is Completed.

    Checks ``Completed`` before reading (the lab reads blindly), finds the file from
    ``HumanLoopOutput.OutputS3Uri``, and checks its ``inputContent`` and ``humanAnswers``.
    A loop that failed, expired, was stopped, is still in progress or holds an unreadable
    answer goes to ``problems`` with advice; the others' verdicts are read all the same.
    """
    found = Outputs()
    problems = []
    for name in names:
        desc = a2i.describe_human_loop(HumanLoopName=name)
        if desc["HumanLoopStatus"] != "Completed":
            problem, advice = advice_for(desc)
            problems.append((name, desc["HumanLoopStatus"], problem, advice))
            continue
        uri = desc.get("HumanLoopOutput", {}).get("OutputS3Uri", "")
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            problems.append(
                (
                    name,
                    "Completed",
                    f"output.json at {uri} cannot be read ({err.response['Error']['Code']})",
                    "check that the flow definition's role may write there and yours may read",
                )
            )
            continue
        found.raw[name], found.uris[name] = body, uri
        try:
            found.outputs.append(_load_output(body, name))
        except InputError as err:
            problems.append((name, "Completed", f"unreadable answer: {err.what}", UNREADABLE))
    found.problems = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    return found


def parse_outputs(raw: dict[str, bytes]) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Parse saved output.json files (by loop name): (readable outputs, table of the others)."""
    outputs, problems = [], []
    for name, body in raw.items():
        try:
            outputs.append(_load_output(body, name))
        except InputError as err:
            problems.append((name, "Completed", f"unreadable answer: {err.what}", UNREADABLE))
    return outputs, pd.DataFrame(problems, columns=PROBLEM_COLUMNS)


def verdicts(outputs: list[dict[str, Any]]) -> pd.DataFrame:
    """Every item of every loop with the reviewers' verdicts (one row per item and reviewer)."""
    from helpers.segments import ITEM_COLUMNS

    frames = [
        review.verdicts(pd.DataFrame(out["inputContent"]["items"]), out).assign(
            loop=out.get("humanLoopName", ""),
            video=(out["inputContent"].get("video") or {}).get("title", ""),
        )
        for out in outputs
    ]
    if frames:
        return pd.concat(frames, ignore_index=True)
    return review.verdicts(pd.DataFrame(columns=ITEM_COLUMNS), {}).assign(loop="", video="")


#: The columns of the verdicts that fit a page (see :func:`readable`).
READABLE_COLUMNS = ["video", "label", "from_s", "to_s", "verdict", "corrected_category", "note"]


def readable(frame: pd.DataFrame, max_rows: int = 20) -> pd.DataFrame:
    """The verdicts for a person: times in seconds and the columns that matter."""
    out = frame.assign(
        from_s=(frame["start_ms"] / 1000).round(1), to_s=(frame["end_ms"] / 1000).round(1)
    )
    return out[READABLE_COLUMNS].head(max_rows)


def notes(outputs: list[dict[str, Any]]) -> pd.DataFrame:
    """Each reviewer's overall note on a loop (the page's notes field), one row per answer."""
    rows = []
    for out in outputs:
        for answer in out.get("humanAnswers", []):
            try:
                doc = answers.parse_answer_content(answer.get("answerContent"), None)
            except (answers.AnswerError, AttributeError, TypeError):
                continue
            note = (doc.get("notes") or "").strip() if isinstance(doc, dict) else ""
            rows.append(
                {
                    "video": out["inputContent"].get("video", {}).get("title", ""),
                    "worker": answer.get("workerId", ""),
                    "note": note or "(no note)",
                }
            )
    return pd.DataFrame(rows, columns=["video", "worker", "note"])


def changes(outputs: list[dict[str, Any]]) -> pd.DataFrame:
    """The items reviewers adjusted (start or end) or added, in every loop (``vmk-review/2``).

    One row per reviewer and change (:func:`helpers.answers.changes_frame`), with the loop's
    video first and times in seconds. Empty when nobody changed anything (``vmk-review/1``
    answers have no changes).
    """
    frames = [
        answers.changes_frame(out).assign(
            video=(out.get("inputContent") or {}).get("video", {}).get("title", "")
        )
        for out in outputs
    ]
    columns = ["video", "worker", "change", "label", "category", "from_s", "to_s"]
    columns += ["input_from_s", "input_to_s", "note", "escalate", "id"]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if frame.empty:
        return pd.DataFrame(columns=columns)
    for ms, s in (("start_ms", "from_s"), ("end_ms", "to_s")):
        frame[s] = frame[ms] / 1000
        frame[f"input_{s}"] = frame[f"input_{ms}"] / 1000
    return frame[columns].sort_values(["video", "worker", "change", "from_s"], ignore_index=True)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """How many items got each verdict, per category."""
    if frame.empty or frame["verdict"].isna().all():
        return pd.DataFrame()
    return frame.pivot_table(
        index="category", columns="verdict", values="id", aggfunc="count", fill_value=0
    )


def must_have_ended(waited: pd.DataFrame) -> None:
    """Raise WaitTimeout if a loop of ``waited`` is still in progress (used by tests)."""
    open_ = waited[~waited["HumanLoopStatus"].isin(FINAL)]
    if len(open_):
        raise WaitTimeout(f"{len(open_)} loop(s) still in progress", "wait again")
