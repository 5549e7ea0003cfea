"""The lab's steps, one function each, as the notebooks call them.

Each step does its work through the other helpers, records what the next notebook needs
(:mod:`helpers.state`), and is safe to run again: it reuses what the run already has.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from helpers import cors, media, preview, review, state
from helpers.errors import kit_step, show_readably
from helpers.session import KitSession, connect

if TYPE_CHECKING:
    import pandas as pd

    from helpers import batch, tuner
    from helpers.rules import RuleSet

# Steps import pandas and the modules built on it (moderation, tuner, batch, cleanup) when they
# run: setting up (01) and provisioning review (03) need neither, and each notebook is a fresh
# kernel that would otherwise spend a third of a second loading them.

log = logging.getLogger(__name__)

#: Columns of :func:`start_review`'s table: one row per human loop.
LOOP_COLUMNS = ["HumanLoopName", "HumanLoopStatus", "items", "from_s", "to_s", "input_chars"]


# --- 01 set up ---------------------------------------------------------------------------------


@kit_step
def start_run(
    region: str | None = None, bucket: str | None = None, role_arn: str | None = None
) -> KitSession:
    """Connect to AWS and start a run, or continue the run recorded for these settings.

    In a notebook, the kit's errors are shown from here on as what happened and what to do.
    """
    show_readably()
    recorded = state.load().get("session", {})
    same = (
        recorded
        and not recorded.get("cleaned_up")
        and all(
            asked in (None, recorded.get(key))
            for key, asked in (("region", region), ("bucket", bucket), ("role_arn", role_arn))
        )
    )
    run_id = recorded["run_id"] if same else None
    if not same:
        state.forget()
    session = connect(region, bucket, role_arn, run_id)
    state.record(
        "session",
        {
            "region": session.region,
            "bucket": session.bucket,
            "role_arn": session.role_arn,
            "run_id": session.run_id,
        },
    )
    return session


@kit_step
def resume(*, cleaning_up: bool = False) -> KitSession:
    """The session of the run that ``01_setup`` started (for the later notebooks).

    A run that was cleaned up cannot be resumed, except by the clean-up notebook itself
    (``cleaning_up=True``), so that running clean up twice is safe.
    """
    show_readably()
    rec = state.require("session")
    if rec.get("cleaned_up") and not cleaning_up:
        raise state.StateMissing(
            f"Run `{rec['run_id']}` was cleaned up", "run 01_setup.ipynb to start a new run"
        )
    return connect(
        rec["region"], rec["bucket"], rec["role_arn"], rec["run_id"], create_bucket=False
    )


@kit_step
def upload(
    session: KitSession, video_path: str | Path, title: str, kms_key_id: str | None = None
) -> dict[str, Any]:
    """Upload the video (encrypted: SSE-S3, or SSE-KMS with ``kms_key_id``); record where."""
    record = media.upload_video(session, video_path, kms_key_id=kms_key_id)
    record["title"] = title
    record["duration_ms"] = media.mp4_duration_ms(video_path)
    state.record("video", record)
    return record


# --- 02 moderate -------------------------------------------------------------------------------


@kit_step
def moderate(session: KitSession, min_confidence: float = 50.0) -> str:
    """Start (or find again) the moderation job for the run's video; return its JobId.

    The ClientRequestToken ties the job to this run, video and threshold, so running the cell
    twice starts one job, not two.
    """
    from helpers import moderation

    video = state.require("video")
    token = f"{session.run_id}-{video['sha256'][:16]}-{int(min_confidence * 100)}"
    job_id = moderation.start_moderation(
        session.rekognition,
        video["bucket"],
        video["key"],
        min_confidence=min_confidence,
        client_request_token=token,
        job_tag=f"vmk-{session.run_id}",
    )
    state.record("moderation", {"job_id": job_id, "min_confidence": min_confidence})
    return job_id


@kit_step
def wait_for_job(session: KitSession, timeout: float = 3600.0) -> dict[str, Any]:
    """Wait for the run's moderation job; return its status and video metadata."""
    from helpers import moderation

    job = state.require("moderation")
    first = moderation.wait_for_moderation(session.rekognition, job["job_id"], timeout=timeout)
    return {
        "job_id": job["job_id"],
        "status": first["JobStatus"],
        "model_version": first.get("ModerationModelVersion", ""),
        **first.get("VideoMetadata", {}),
    }


@kit_step
def labels(session: KitSession) -> pd.DataFrame:
    """Every label of the run's finished moderation job (all pages)."""
    from helpers import moderation

    job = state.require("moderation")
    frame = moderation.fetch_labels(session.rekognition, job["job_id"])
    state.record(
        "moderation",
        {**job, "labels": len(frame), "pages": frame.attrs["pages"], "video": frame.attrs["video"]},
    )
    return frame


# --- 03 set up human review --------------------------------------------------------------------


@kit_step
def choose_workteam(session: KitSession, workteam_name: str | None = None) -> dict[str, Any]:
    """Pick the private work team (by name, or the only one) and its worker portal URL."""
    team = review.find_workteam(session.sagemaker, workteam_name)
    portal = review.worker_portal_url(session.sagemaker, team)
    chosen = {"name": team["WorkteamName"], "arn": team["WorkteamArn"], "portal_url": portal}
    state.record("workteam", chosen)
    return chosen


@kit_step
def create_task_ui(session: KitSession) -> str:
    """Create the reviewer's page as a human task UI (or reuse the same one); return its ARN."""
    arn = review.ensure_task_ui(session.sagemaker, session.run_id, review.load_template())
    state.record("task_ui", {"arn": arn})
    return arn


@kit_step
def check_task_ui(session: KitSession) -> dict[str, Any]:
    """Render the run's human task UI with SageMaker RenderUiTemplate and a small sample task.

    The sample task (three items) plays the run's video, so the role's read access is used as
    A2I will use it. Returns ``{"RenderedContent": str, "Errors": [{"Code", "Message"}]}``: an
    empty ``Errors`` list means A2I can render the page.
    """
    video = state.require("video")
    task_input = preview.sample_input(
        video["s3_uri"],
        title=video.get("title") or "Sample",
        duration_ms=int(video.get("duration_ms") or 60_000),
    )
    arn = state.require("task_ui")["arn"]
    result = preview.render_on_aws(session.sagemaker, session.role_arn, task_input, task_ui_arn=arn)
    log.info(
        "RenderUiTemplate: %s characters, %d error(s)",
        f"{len(result['RenderedContent']):,}",
        len(result["Errors"]),
    )
    return result


@kit_step
def allow_portal(
    session: KitSession, origins: list[str] | None = None, *, allow_any_origin: bool = False
) -> dict[str, Any]:
    """Add the bucket CORS rule that lets the worker portal read the video.

    The rule is the narrowest that works: GET and HEAD, from the portal's origin (scheme, host
    and port: the offline portal's URL also has a path, which an origin never carries) and
    A2I's template preview origin. ``allow_any_origin=True`` uses the lab's ``*`` instead —
    only when asked for, e.g. when a corporate proxy rewrites the portal's origin.
    """
    if allow_any_origin:
        return cors.apply_cors(session.s3, session.bucket, ["*"])
    parts = urlsplit(state.require("workteam")["portal_url"])
    portal = f"{parts.scheme}://{parts.netloc}"
    return cors.apply_cors(session.s3, session.bucket, origins or [portal, cors.PREVIEW_ORIGIN])


@kit_step
def create_flow_definition(
    session: KitSession, task_count: int = 1, timeout: float = 600.0
) -> dict[str, Any]:
    """Create the flow definition (or reuse the same one) and wait until it is Active."""
    config = review.flow_definition_config(
        workteam_arn=state.require("workteam")["arn"],
        task_ui_arn=state.require("task_ui")["arn"],
        role_arn=session.role_arn,
        output_path=f"s3://{session.bucket}/{session.prefix}/a2i-output",
        task_count=task_count,
    )
    flow = review.ensure_flow_definition(session.sagemaker, session.run_id, config, timeout=timeout)
    setup = {
        "flow_definition_arn": flow["FlowDefinitionArn"],
        "flow_definition_name": flow["FlowDefinitionName"],
        "status": flow["FlowDefinitionStatus"],
    }
    state.record("review_setup", setup)
    return setup


# --- 04 review ---------------------------------------------------------------------------------


@kit_step
def tune_rules(
    session: KitSession, labels: pd.DataFrame, rules: RuleSet, gap_ms: int = 1500
) -> tuner.TuneResult:
    """Apply the rules to the run's labels and merge them into review items (headless tuner).

    Returns :func:`helpers.tuner.tune`'s result (items, funnel, cost, timeline) and records the
    rule set and the funnel for the next notebooks and the demo's summary.
    """
    from helpers import tuner

    video = state.load().get("video", {})
    duration = (labels.attrs.get("video") or {}).get("DurationMillis") or video.get("duration_ms")
    result = tuner.tune(labels, rules, gap_ms, duration_ms=duration)
    state.record(
        "rules",
        {
            "name": rules.name,
            "rules": rules.to_dict(),
            "gap_ms": int(gap_ms),
            "detections": result.detections,
            "flagged": len(result.flagged),
            "items": len(result.items),
        },
    )
    return result


@kit_step
def review_items(
    session: KitSession, rules: RuleSet, gap_ms: int = 1500
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the rules to the run's labels; return (flagged detections, review items)."""
    result = tune_rules(session, labels(session), rules, gap_ms)
    return result.flagged, result.items


@kit_step
def start_review(session: KitSession, items: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """Start the human loop(s) for the review items (once); return one row per loop.

    One loop takes every item unless its input would exceed A2I's InputContent limit; then the
    review is split into loops by time window (and a warning says so). Each loop's name carries
    a hash of its input, so running this again starts nothing new. With nothing flagged there
    is nothing to review, and no loop (and no cost) is created.
    """
    import pandas as pd

    video = state.require("video")
    duration = state.load().get("moderation", {}).get("video", {}).get("DurationMillis")
    rows, recorded = _start_loops(
        session, items, rules, video, int(duration or video.get("duration_ms") or 0)
    )
    state.record("human_loops", recorded)
    state.record("review", {"loops": [r["name"] for r in recorded], "items": len(items)})
    return pd.DataFrame(rows, columns=LOOP_COLUMNS)


def _start_loops(
    session: KitSession,
    items: pd.DataFrame,
    rules: RuleSet,
    video: dict[str, Any],
    duration_ms: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Start one video's loops; return (rows for display, records for the state file)."""
    if items.empty:
        return [], []
    setup = state.require("review_setup")
    docs = review.plan_loop_inputs(
        items,
        video_s3_uri=video["s3_uri"],
        title=video["title"],
        duration_ms=duration_ms,
        rules_name=rules.name,
    )
    sizes = [len(review.input_content(doc)) for doc in docs]
    if len(docs) > 1:
        log.warning(
            "review split into %d loops of ≤ %s chars because the %d items would need %s "
            "chars in one loop and A2I's InputContent takes at most %s; each loop covers a "
            "time window of the video",
            len(docs),
            f"{max(sizes):,}",
            len(items),
            f"{sum(sizes):,}",
            f"{review.MAX_INPUT_CHARS:,}",
        )
    rows, recorded = [], []
    for doc, size in zip(docs, sizes, strict=True):
        desc = review.start_human_loop(
            session.a2i, setup["flow_definition_arn"], session.run_id, doc
        )
        window = doc.get("window") or {"start_ms": 0, "end_ms": doc["video"]["duration_ms"]}
        recorded.append(
            {"name": desc["HumanLoopName"], "items": len(doc["items"]), "window": doc.get("window")}
        )
        rows.append(
            {
                "HumanLoopName": desc["HumanLoopName"],
                "HumanLoopStatus": desc["HumanLoopStatus"],
                "items": len(doc["items"]),
                "from_s": window["start_ms"] / 1000,
                "to_s": window["end_ms"] / 1000,
                "input_chars": size,
            }
        )
    return rows, recorded


# --- 07 many videos ----------------------------------------------------------------------------


@kit_step
def moderate_folder(
    session: KitSession,
    folder: str | Path,
    *,
    min_confidence: float = 50.0,
    max_concurrent: int | None = None,
    timeout: float = 6 * 3600.0,
) -> batch.BatchResult:
    """Upload every video of a folder and moderate them all, at most ``max_concurrent`` at once.

    Returns the jobs (one row per video) and every label of every video in one frame; records
    the videos for :func:`review_many`. ``max_concurrent`` defaults to
    :data:`helpers.batch.DEFAULT_MAX_CONCURRENT`.
    """
    from helpers import batch

    videos = batch.videos_in_folder(session, folder)
    result = batch.moderate_many(
        session.rekognition,
        videos,
        min_confidence=min_confidence,
        max_concurrent=max_concurrent or batch.DEFAULT_MAX_CONCURRENT,
        timeout=timeout,
        run_tag=f"vmk-{session.run_id}",
    )
    durations = {v.name: media.mp4_duration_ms(Path(folder) / v.name) or 0 for v in videos}
    state.record(
        "many_videos",
        [
            {
                "name": v.name,
                "s3_uri": f"s3://{v.bucket}/{v.key}",
                "title": v.name,
                "job_id": v.job_id,
                "status": v.status,
                "duration_ms": durations[v.name],
            }
            for v in videos
        ],
    )
    return result


@kit_step
def review_many(
    session: KitSession, labels_frame: pd.DataFrame, rules: RuleSet, gap_ms: int = 1500
) -> pd.DataFrame:
    """One review (one loop, or one per time window) per moderated video; one row per loop."""
    import pandas as pd

    from helpers import tuner

    rows, recorded = [], []
    for video in state.require("many_videos"):
        if video["status"] != "SUCCEEDED":
            continue
        own = labels_frame[labels_frame["video"] == video["name"]]
        result = tuner.tune(own, rules, gap_ms, duration_ms=video["duration_ms"], plot=False)
        video_rows, video_loops = _start_loops(
            session, result.items, rules, video, video["duration_ms"]
        )
        rows.extend({"video": video["name"], **r} for r in video_rows)
        recorded.extend(video_loops)
    state.record("human_loops", recorded)
    state.record(
        "many_review",
        {
            "videos": len(state.require("many_videos")),
            "loops": [r["name"] for r in recorded],
            "items": sum(r["items"] for r in recorded),
        },
    )
    return pd.DataFrame(rows, columns=["video", *LOOP_COLUMNS])


@kit_step
def portal_url() -> str:
    """The worker portal where reviewers sign in and find the task."""
    return state.require("workteam")["portal_url"]


@kit_step
def wait_for_review(session: KitSession, timeout: float = 3600.0) -> pd.DataFrame:
    """Wait until every human loop of the run is Completed; return their statuses."""
    import pandas as pd

    rows = []
    for loop in state.require("human_loops"):
        desc = review.wait_for_human_loop(session.a2i, loop["name"], timeout=timeout)
        rows.append({"loop": loop["name"], "status": desc["HumanLoopStatus"]})
    return pd.DataFrame(rows, columns=["loop", "status"])


# --- 05 results --------------------------------------------------------------------------------


@kit_step
def read_outputs(session: KitSession) -> list[dict[str, Any]]:
    """A2I's output.json of every human loop of the run (each loop must be Completed)."""
    return [
        review.read_output(session.s3, session.a2i, loop["name"])
        for loop in state.require("human_loops")
    ]


@kit_step
def verdicts(outputs: list[dict[str, Any]]) -> pd.DataFrame:
    """Every item of every loop with the reviewers' verdicts (one row per item and reviewer)."""
    import pandas as pd

    from helpers.segments import ITEM_COLUMNS

    frames = [
        review.verdicts(pd.DataFrame(out["inputContent"]["items"]), out).assign(
            loop=out.get("humanLoopName", ""), video=out["inputContent"]["video"]["title"]
        )
        for out in outputs
    ]
    frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else review.verdicts(pd.DataFrame(columns=ITEM_COLUMNS), {}).assign(loop="", video="")
    )
    counts = frame[frame["verdict"].notna()].groupby("loop").size()
    state.record("results", {**state.load().get("results", {}), **counts.astype(int).to_dict()})
    return frame


@kit_step
def verdict_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """How many items got each verdict, per category."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame()
    return frame.pivot_table(
        index="category", columns="verdict", values="id", aggfunc="count", fill_value=0
    )


# --- 06 clean up -------------------------------------------------------------------------------


@kit_step
def clean_up(session: KitSession, dry_run: bool = False, all_runs: bool = False) -> pd.DataFrame:
    """Delete what the run (or every kit run, with ``all_runs``) created; ``dry_run`` lists it."""
    from helpers import cleanup

    frame = cleanup.teardown(
        session.sagemaker,
        session.a2i,
        session.s3,
        session.bucket,
        None if all_runs else session.run_id,
        dry_run=dry_run,
        sns=session.client("sns"),
        sqs=session.client("sqs"),
    )
    if not dry_run:
        rec = state.load().get("session", {})
        state.record("session", {**rec, "cleaned_up": True})
        state.record("cleanup", {"deleted": len(frame)})
    return frame


@kit_step
def leftovers(session: KitSession) -> pd.DataFrame:
    """What clean up would still delete for this run (empty when everything is gone)."""
    from helpers import cleanup

    return cleanup.teardown(
        session.sagemaker,
        session.a2i,
        session.s3,
        session.bucket,
        session.run_id,
        dry_run=True,
        sns=session.client("sns"),
        sqs=session.client("sqs"),
    )
