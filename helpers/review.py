"""Human review with Amazon A2I: review items, the loop's input (payload and split), answers.

Provisioning (task UI, flow definition) is :mod:`helpers.provision`; the run's loops, found from
AWS and read whatever happened to them, are :mod:`helpers.loops`. The single-loop helpers here
(:func:`start_human_loop`, :func:`wait_for_human_loop`, :func:`read_output`) serve scripts and
tests that drive one loop.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from helpers import answers, checks, provision
from helpers.errors import (
    HumanLoopNotComplete,
    InputError,
    OutputMissing,
    ResourceFailed,
)
from helpers.names import check_a2i_name, kit_tags, resource_name
from helpers.progress import Progress
from helpers.provision import content_hash
from helpers.waiting import Backoff, wait_until

if TYPE_CHECKING:  # numpy and pandas load when items are planned, not for provisioning
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)

# Provisioning lives in helpers.provision; these names stay for scripts and tests that used them.
MAX_TEMPLATE_CHARS = provision.MAX_TEMPLATE_CHARS
find_workteam = provision.find_workteam
load_template = provision.load_template
worker_portal_url = provision.worker_portal_url

MAX_INPUT_CHARS = 3_145_728
LOOP_FINAL = ("Completed", "Failed", "Stopped")

#: The item fields a human loop's input carries (schema in :mod:`helpers.answers`).
INPUT_ITEM_FIELDS = (
    "id",
    "label",
    "parent",
    "category",
    "start_ms",
    "end_ms",
    "confidence",
    "detections",
)
#: Optional item fields the reviewer's page draws when present (``templates/reviewer/
#: ANSWER_SCHEMA.md``): the peak's time and the detections' times, from the items frame's
#: ``peak_ms`` and ``detections_ms`` (:mod:`helpers.segments`).
OPTIONAL_ITEM_FIELDS = ("peak_ms", "detections_ms")
#: At most this many detection times per item go into the loop input (evenly spread, first,
#: last and peak kept): about 9 characters each, so a long item adds at most ~300 characters
#: and A2I's InputContent limit is met by the payload split as before. The page draws 500.
MAX_DETECTIONS_MS = 32


# --- review items ------------------------------------------------------------------------------


def drop_covered_ancestors(flagged: pd.DataFrame) -> pd.DataFrame:
    """Drop flagged rows whose descendant is also flagged at the same moment.

    Rekognition reports ``Drinking``, ``Alcohol Use`` and ``Alcohol`` as three rows at one
    timestamp; a reviewer should see one item, the most specific. See
    :func:`helpers.segments.drop_covered_ancestors`.
    """
    from helpers import segments

    return segments.drop_covered_ancestors(flagged)


def make_review_items(flagged: pd.DataFrame, *, gap_ms: int = 1500) -> pd.DataFrame:
    """Merge flagged detections into review items: one per run of a label.

    Detections of one label no more than ``gap_ms`` apart form one item with its first and last
    time, peak confidence, number of detections and the rows it covers. Item ids are stable:
    they derive from the label, level and start, not from the item's position. See
    :func:`helpers.segments.review_items` (TIMESTAMPS and SEGMENTS input).
    """
    from helpers import segments

    return segments.review_items(flagged, gap_ms)


# --- payload -----------------------------------------------------------------------------------


def _records(items: pd.DataFrame) -> list[dict[str, Any]]:
    """The items as the loop input's ``items`` (plain JSON types), in the frame's order.

    ``peak_ms`` and ``detections_ms`` (:data:`OPTIONAL_ITEM_FIELDS`) are added when the frame
    has them; an item's detection times are thinned to :data:`MAX_DETECTIONS_MS`.
    """
    fields = [*INPUT_ITEM_FIELDS, *(f for f in OPTIONAL_ITEM_FIELDS if f in items)]
    columns = {name: items[name].tolist() for name in fields}
    ints, floats = ("start_ms", "end_ms", "detections"), ("confidence",)
    for name in ints:
        columns[name] = [int(v) for v in columns[name]]
    for name in floats:
        columns[name] = [float(v) for v in columns[name]]
    if "peak_ms" in columns:
        columns["peak_ms"] = [int(v) for v in columns["peak_ms"]]
    if "detections_ms" in columns:
        peaks = columns.get("peak_ms") or [None] * len(items)
        pairs = zip(columns["detections_ms"], peaks, strict=True)
        columns["detections_ms"] = [thin_times(times, peak) for times, peak in pairs]
    rows = zip(*columns.values(), strict=True)
    return [dict(zip(fields, row, strict=True)) for row in rows]


def thin_times(times: Any, peak: int | None = None, cap: int = MAX_DETECTIONS_MS) -> list[int]:
    """At most ``cap`` (3 or more) of ``times`` in ms, sorted: evenly spread, with the first,
    the last and ``peak``."""
    values = sorted(int(t) for t in times)
    if len(values) <= cap:
        return values
    step = (len(values) - 1) / (cap - 2)
    kept = {values[round(k * step)] for k in range(cap - 1)}  # first and last among them
    if peak is not None:
        kept.add(int(peak))
    return sorted(kept)


def build_loop_input(
    items: pd.DataFrame,
    *,
    video_s3_uri: str,
    title: str,
    duration_ms: int,
    rules_name: str,
    window: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The human loop's input document (schema in :mod:`helpers.answers`).

    ``window`` (``{start_ms, end_ms, index, count}``) is set when the review is split into
    several loops (see :func:`plan_loop_inputs`).
    """
    if not video_s3_uri.startswith("s3://"):
        raise InputError(f"`{video_s3_uri}` is not an s3:// URI", "pass the uploaded video's URI")
    doc: dict[str, Any] = {
        "schema": answers.INPUT_SCHEMA,
        "video": {"title": title, "s3_uri": video_s3_uri, "duration_ms": int(duration_ms)},
        "items": _records(items),
        "rules": rules_name,
    }
    if window is not None:
        doc["window"] = {k: int(window[k]) for k in ("start_ms", "end_ms", "index", "count")}
    return doc


def _dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def input_content(loop_input: dict[str, Any], max_chars: int = MAX_INPUT_CHARS) -> str:
    """``InputContent`` for StartHumanLoop: compact JSON, checked against A2I's size limit.

    The document is checked first (:func:`helpers.checks.loop_input`): strict JSON (no NaN or
    Infinity anywhere: A2I refuses them and the reviewer page could not read them), no negative
    time, no window or item that ends before it starts. Nothing is sent when it is refused.
    """
    text = checks.loop_input(loop_input)
    if len(text) > max_chars:
        raise InputError(
            f"The review input is {len(text):,} characters; A2I takes at most {max_chars:,}",
            "split the review into time windows with plan_loop_inputs (loops.requests does)",
        )
    return text


def plan_loop_inputs(
    items: pd.DataFrame,
    *,
    video_s3_uri: str,
    title: str,
    duration_ms: int,
    rules_name: str,
    max_chars: int = MAX_INPUT_CHARS,
) -> list[dict[str, Any]]:
    """One loop input when the items fit A2I's InputContent limit; else one per time window.

    Windows are consecutive ranges of video time ``[start_ms, end_ms)``: an item belongs to the
    window its ``start_ms`` falls in, so every item lands in exactly one loop, and every
    window's input stays within ``max_chars``. Items that start at the same moment stay
    together. Nothing is dropped: when even one moment's items do not fit, this raises.
    """
    items = items.sort_values(["start_ms", "id"], kind="stable", ignore_index=True)
    args = {
        "video_s3_uri": video_s3_uri,
        "title": title,
        "duration_ms": duration_ms,
        "rules_name": rules_name,
    }
    whole = build_loop_input(items, **args)
    if len(_dumps(whole)) <= max_chars:
        return [whole]
    import numpy as np

    records = whole["items"]
    starts = items["start_ms"].to_numpy(dtype=np.int64)
    last = max(int(duration_ms), int(starts.max()) + 1)
    n = len(records)
    widest = {"start_ms": last, "end_ms": last, "index": n, "count": n}
    envelope = len(_dumps(build_loop_input(items.iloc[:0], **args, window=widest)))
    budget = max_chars - envelope
    if budget <= 0:
        raise InputError(
            f"The review input without any item already needs {envelope:,} characters",
            f"A2I takes at most {max_chars:,}: shorten the video title",
        )
    # characters used by items [0, k): each record plus the comma before all but the first
    sizes = np.array([len(_dumps(r)) + 1 for r in records], dtype=np.int64)
    used = np.concatenate([[0], np.cumsum(sizes)])
    # as few windows as the limit allows, about equally full (equal work for each reviewer)
    fewest = -(-int(used[-1]) // budget)
    for count in range(fewest, fewest + 4):
        cuts = _cut(used, starts, min(budget, -(-int(used[-1]) // count) + int(sizes.max())))
        if cuts is not None and len(cuts) - 1 <= count:
            break
    else:
        cuts = _cut(used, starts, budget)
    if cuts is None:
        raise InputError(
            f"The items starting at one moment alone need more than {budget:,} characters of "
            f"A2I's {max_chars:,}",
            "raise the rules' thresholds or merge more (a larger gap_ms)",
        )
    count = len(cuts) - 1
    docs = []
    for index, (a, b) in enumerate(itertools.pairwise(cuts)):
        window = {
            "start_ms": 0 if index == 0 else int(starts[a]),
            "end_ms": last if b == n else int(starts[b]),
            "index": index,
            "count": count,
        }
        doc = dict(whole, items=records[a:b], window=window)
        input_content(doc, max_chars)  # never sent oversized: raises instead
        docs.append(doc)
    return docs


def _cut(used: np.ndarray, starts: np.ndarray, capacity: int) -> list[int] | None:
    """Greedy window bounds (item positions) holding at most ``capacity`` characters each.

    Items with the same start stay in one window. None when one moment's items do not fit.
    """
    import numpy as np

    n = len(starts)
    cuts = [0]
    while cuts[-1] < n:
        first = cuts[-1]
        end = int(np.searchsorted(used, used[first] + capacity + 1, side="right")) - 1
        if end < n:  # do not split one moment's items across two windows
            end = int(np.searchsorted(starts, starts[end], side="left"))
        if end <= first:
            return None
        cuts.append(end)
    return cuts


# --- provisioning ------------------------------------------------------------------------------


def ensure_task_ui(sagemaker: Any, run_id: str, template: str) -> str:
    """The reviewer page as a human task UI for ``run_id``, created once; return its ARN.

    A shortcut over :func:`helpers.provision.ensure_task_ui` (the notebooks build the request
    themselves).
    """
    request = {"UiTemplate": {"Content": template}, "Tags": kit_tags(run_id)}
    request["HumanTaskUiName"] = resource_name("ui", run_id, content_hash(template))
    return provision.ensure_task_ui(sagemaker, **request)


def flow_definition_config(
    *,
    workteam_arn: str,
    task_ui_arn: str,
    role_arn: str,
    output_path: str,
    title: str = "Review flagged moments in a video",
    description: str = "Give a verdict on every flagged moment of the video",
    task_count: int = 1,
    time_limit_s: int = 3600,
    lifetime_s: int = 86400,
) -> dict[str, Any]:
    """The arguments of CreateFlowDefinition (without name and tags), checked first."""
    task_count = checks.number(task_count, "task_count", low=1, high=3, integer=True)
    if not 1 <= len(title) <= 128:
        raise InputError("TaskTitle must have 1-128 characters", "shorten the title")
    if not 1 <= len(description) <= 255:
        raise InputError("TaskDescription must have 1-255 characters", "shorten it")
    time_limit_s = checks.number(time_limit_s, "time_limit_s", low=30, high=28_800, integer=True)
    lifetime_s = checks.number(lifetime_s, "lifetime_s", low=1, high=864_000, integer=True)
    if not output_path.startswith("s3://"):
        raise InputError(f"Output path `{output_path}` is not s3://", "use s3://bucket/prefix/")
    return {
        "HumanLoopConfig": {
            "WorkteamArn": workteam_arn,
            "HumanTaskUiArn": task_ui_arn,
            "TaskTitle": title,
            "TaskDescription": description,
            "TaskCount": task_count,
            "TaskTimeLimitInSeconds": time_limit_s,
            "TaskAvailabilityLifetimeInSeconds": lifetime_s,
            "TaskKeywords": ["video", "moderation"],
        },
        "OutputConfig": {"S3OutputPath": output_path},
        "RoleArn": role_arn,
    }


def ensure_flow_definition(
    sagemaker: Any, run_id: str, config: dict[str, Any], *, timeout: float = 600.0
) -> dict[str, Any]:
    """The flow definition for ``config`` (see :func:`flow_definition_config`), Active.

    A shortcut over :func:`helpers.provision.ensure_flow_definition`.
    """
    name = resource_name("flow", run_id, content_hash(config))
    return provision.ensure_flow_definition(
        sagemaker, timeout=timeout, FlowDefinitionName=name, Tags=kit_tags(run_id), **config
    )


# --- human loops -------------------------------------------------------------------------------


def start_human_loop(
    a2i: Any, flow_definition_arn: str, run_id: str, loop_input: dict[str, Any]
) -> dict[str, Any]:
    """Start a human loop for ``loop_input`` unless it was already started; describe it.

    The loop's name carries a hash of its input, so re-running the cell finds the same loop
    instead of paying for a second review.
    """
    content = input_content(loop_input)
    name = check_a2i_name(resource_name("loop", run_id, content_hash(content)), "loop name")
    try:
        return a2i.describe_human_loop(HumanLoopName=name)
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    a2i.start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow_definition_arn,
        HumanLoopInput={"InputContent": content},
        DataAttributes={"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]},
    )
    return a2i.describe_human_loop(HumanLoopName=name)


def wait_for_human_loop(
    a2i: Any, name: str, *, timeout: float = 3600.0, backoff: Backoff | None = None
) -> dict[str, Any]:
    """Wait until a loop is Completed; raise when it ends Failed or Stopped, or at the deadline."""

    def done(desc: dict[str, Any]) -> bool:
        status = desc["HumanLoopStatus"]
        if status in ("Failed", "Stopped"):
            code = desc.get("FailureCode")
            reason = desc.get("FailureReason") or "stopped before a reviewer submitted it"
            fix = (
                "nobody submitted the task in time: start a new loop and review it sooner, or "
                "raise TaskAvailabilityLifetimeInSeconds"
                if code == "Expired"
                else "start a new loop (re-run the start cell after clean up), and check the "
                "work team has members and the task's time limits"
            )
            raise ResourceFailed(
                f"Human loop `{name}` ended {status}{f' ({code})' if code else ''}: {reason}",
                fix,
            )
        return status == "Completed"

    return wait_until(
        lambda: a2i.describe_human_loop(HumanLoopName=name),
        done,
        what=f"Human loop `{name}` being completed by a reviewer",
        timeout=timeout,
        advice="open the worker portal printed above and submit the task, then run this cell again",
        backoff=backoff or Backoff(first=2.0, cap=30.0),
        on_poll=Progress(f"Human loop `{name}`", timeout, lambda d: d["HumanLoopStatus"]),
    )


def read_output(s3: Any, a2i: Any, loop_name: str) -> dict[str, Any]:
    """A completed loop's output.json, as a dict. Checks the loop is Completed first."""
    desc = a2i.describe_human_loop(HumanLoopName=loop_name)
    status = desc["HumanLoopStatus"]
    if status != "Completed":
        raise HumanLoopNotComplete(
            f"Human loop `{loop_name}` is {status}, so it has no output yet",
            "wait for a reviewer to submit it (run the waiting cell), then read again",
        )
    uri = desc.get("HumanLoopOutput", {}).get("OutputS3Uri", "")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        raise OutputMissing(
            f"A2I reports output at `{uri}` but it cannot be read "
            f"({err.response['Error']['Code']})",
            "check the flow definition role may write there and your role may read it",
        ) from None
    return json.loads(body)


#: Columns of :func:`answers_frame`: one row per worker and item.
ANSWER_COLUMNS = [
    "worker",
    "id",
    "verdict",
    "corrected_category",
    "note",
    "escalate",
    "bulk",
    "accepted",
    "submitted",
    "seconds_spent",
]


def answers_frame(output: dict[str, Any]) -> pd.DataFrame:
    """One row per (worker, item) verdict from an A2I output document.

    Every answer is checked against ``vmk-review/1`` (``templates/reviewer/ANSWER_SCHEMA.md``):
    a known verdict per item, a v7 label for ``wrong_category``, unique ids and, when the output
    carries the loop's input, exactly the input's item ids. Raises :class:`InputError` naming
    the loop, the answer and what is wrong.
    """
    loop = output.get("humanLoopName", "?")
    loop_input = output.get("inputContent")
    input_items = loop_input.get("items") if isinstance(loop_input, dict) else None
    if not isinstance(input_items, list):
        input_items = None
    rows: list[dict[str, Any]] = []
    for number, answer in enumerate(output.get("humanAnswers") or [], 1):
        worker = answer.get("workerId", "") if isinstance(answer, dict) else ""
        try:
            if not isinstance(answer, dict):
                raise answers.AnswerError("the human answer is not a JSON object")
            doc = answers.parse_answer_content(answer.get("answerContent"), input_items)
        except answers.AnswerError as err:
            raise InputError(
                f"Answer {number} (worker `{worker}`) of human loop `{loop}` does not follow "
                f"{answers.ANSWER_SCHEMA}: {err}",
                "check that the flow definition's human task UI is the kit's reviewer page "
                "(templates/reviewer/); the answer's schema is in "
                "templates/reviewer/ANSWER_SCHEMA.md",
            ) from None
        accepted = _parse_time(answer.get("acceptanceTime"))
        submitted = _parse_time(answer.get("submissionTime"))
        for item in doc["items"]:
            rows.append(
                {
                    "worker": worker,
                    "id": item["id"],
                    "verdict": item["verdict"],
                    "corrected_category": item.get("category") or "",
                    "note": item.get("note", ""),
                    "escalate": bool(item.get("escalate", False)),
                    "bulk": bool(item.get("bulk", False)),
                    "accepted": accepted,
                    "submitted": submitted,
                    "seconds_spent": answer.get("timeSpentInSeconds"),
                }
            )
    import pandas as pd

    return pd.DataFrame(rows, columns=ANSWER_COLUMNS)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def verdicts(items: pd.DataFrame, output: dict[str, Any]) -> pd.DataFrame:
    """Review items joined with the reviewers' verdicts (one row per item and worker).

    Items nobody answered keep one row with empty verdict columns.
    """
    frame = answers_frame(output)
    cols = ["id", "label", "category", "start_ms", "end_ms", "confidence"]
    return items[cols].merge(frame, on="id", how="left")


def loop_names(loops: Iterable[dict[str, Any]]) -> list[str]:
    """The names of described loops."""
    return [loop["HumanLoopName"] for loop in loops]
