"""The notebooks' steps, one function each, for the AWS tests (the notebooks stay the source).

Each function makes the same calls the notebooks' cells make, with the same helpers, so a test
can drive the lab in a few lines; AWS's refusals come out explained, as a notebook shows them
(:func:`helpers.runs.readable_errors`). Nothing in ``helpers/`` wraps the lab like this: the
notebooks show every AWS request themselves.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers import batch, cleanup, cors, loops, media, moderation, names, provision, runs, state
from helpers import tuner as tuning
from helpers.errors import kit_step
from helpers.rules import RuleSet

SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "media" / "moderation-sample.mp4"


@kit_step
def start_run(**kwargs):
    """01: connect and start (or continue) a run."""
    return runs.start(**kwargs)


@kit_step
def upload(session, path=SAMPLE, title="sample"):
    """01: upload the video and record it."""
    video = {**media.upload_video(session, path), "title": title}
    video["duration_ms"] = media.mp4_duration_ms(path)
    state.record("video", video)
    return video


@kit_step
def moderate(session, min_confidence=50.0):
    """02: StartContentModeration with the run's token; record the job."""
    video = state.require("video")
    job_id = session.rekognition.start_content_moderation(
        Video={"S3Object": {"Bucket": video["bucket"], "Name": video["key"]}},
        MinConfidence=min_confidence,
        ClientRequestToken=moderation.request_token(
            session.run_id, video["sha256"], min_confidence
        ),
        JobTag=f"vmk-{session.run_id}",
    )["JobId"]
    state.record("moderation", {"job_id": job_id, "min_confidence": min_confidence})
    return job_id


@kit_step
def wait_for_job(session, timeout=3600.0):
    """02: wait for the job; the last GetContentModeration answer."""
    from helpers import waiting

    job_id = state.require("moderation")["job_id"]
    return waiting.until_done(session.rekognition, job_id, timeout=timeout)


@kit_step
def labels(session):
    """02/04: every label of the run's job."""
    return moderation.all_labels(session.rekognition, state.require("moderation")["job_id"])


@kit_step
def choose_workteam(session, name=None):
    """03: the work team and its portal."""
    team = provision.find_workteam(session.sagemaker, name)
    portal = provision.worker_portal_url(session.sagemaker, team)
    chosen = {"name": team["WorkteamName"], "arn": team["WorkteamArn"], "portal_url": portal}
    state.record("workteam", chosen)
    return chosen


@kit_step
def create_task_ui(session):
    """03: CreateHumanTaskUi through provision.ensure; its ARN."""
    request = {
        "UiTemplate": {"Content": provision.load_template()},
        "Tags": names.kit_tags(session.run_id),
    }
    request["HumanTaskUiName"] = provision.name_for("ui", session.run_id, request)
    arn = provision.ensure(session.sagemaker.create_human_task_ui, **request)["HumanTaskUiArn"]
    state.record("task_ui", {"arn": arn})
    return arn


@kit_step
def allow_portal(session, allow_any_origin=False):
    """03: the bucket's CORS rule for the portal."""
    portal = state.require("workteam")["portal_url"]
    return cors.allow_portal(session.s3, session.bucket, portal, allow_any_origin=allow_any_origin)


@kit_step
def flow_request(session, task_count=1, **extra):
    """03: the CreateFlowDefinition request as notebook 3 writes it."""
    request = {
        "HumanLoopConfig": {
            "WorkteamArn": state.require("workteam")["arn"],
            "HumanTaskUiArn": state.require("task_ui")["arn"],
            "TaskTitle": "Review flagged moments in a video",
            "TaskDescription": "Give a verdict on every flagged moment of the video",
            "TaskCount": task_count,
            "TaskAvailabilityLifetimeInSeconds": 86_400,
            **extra,
        },
        "OutputConfig": {"S3OutputPath": f"s3://{session.bucket}/{session.prefix}/a2i-output"},
        "RoleArn": session.role_arn,
        "Tags": names.kit_tags(session.run_id),
    }
    request["FlowDefinitionName"] = provision.name_for("flow", session.run_id, request)
    return request


@kit_step
def create_flow_definition(session, task_count=1):
    """03: CreateFlowDefinition through provision.ensure, Active."""
    flow = provision.ensure(
        session.sagemaker.create_flow_definition, **flow_request(session, task_count)
    )
    state.record("review_setup", {"flow_definition_arn": flow["FlowDefinitionArn"]})
    return flow


@kit_step
def review_items(session, rule_set, gap_ms=1500):
    """04: (flagged detections, review items) of the run's labels."""
    result = tuning.tune(labels(session), rule_set, gap_ms, plot=False)
    return result.flagged, result.items


@kit_step
def start_loops(session, requests):
    """04/06: StartHumanLoop for each request not started yet; the loops' names."""
    flow_arn = state.require("review_setup")["flow_definition_arn"]
    for request in requests:
        if loops.status(session.a2i, request["HumanLoopName"]) is None:
            session.a2i.start_human_loop(
                HumanLoopName=request["HumanLoopName"],
                FlowDefinitionArn=flow_arn,
                HumanLoopInput={"InputContent": request["InputContent"]},
            )
    return [r["HumanLoopName"] for r in requests]


@kit_step
def start_review(session, items, rule_set):
    """04: the loops for the items, the earlier unanswered loop of the video stopped."""
    video = state.require("video")
    requests = loops.requests(
        items,
        run_id=session.run_id,
        video=video,
        duration_ms=video.get("duration_ms") or 0,
        rules_name=rule_set.name,
    )
    started = start_loops(session, requests)
    state.record("review", {"loops": started, "items": len(items)})
    superseded = loops.stop_superseded(
        session.sagemaker, session.a2i, session.run_id, video["s3_uri"], keep=started
    )
    rows = [
        {
            "HumanLoopName": r["HumanLoopName"],
            "HumanLoopStatus": loops.status(session.a2i, r["HumanLoopName"]),
            "items": r["items"],
        }
        for r in requests
    ]
    frame = pd.DataFrame(rows, columns=["HumanLoopName", "HumanLoopStatus", "items"])
    frame.attrs["superseded"] = superseded  # what notebook 4's cell shows
    return frame


@kit_step
def until_items(session, rules: str = "lab-v7"):
    """01-04 up to the items: (rule set, flagged, review items)."""
    upload(session)
    moderate(session)
    wait_for_job(session)
    choose_workteam(session)
    create_task_ui(session)
    allow_portal(session)
    create_flow_definition(session)
    rule_set = RuleSet.load(rules)
    flagged, items = review_items(session, rule_set)
    return rule_set, flagged, items


@kit_step
def run_loop_names(session):
    """The run's loops, from A2I."""
    return list(loops.of_run(session.sagemaker, session.a2i, session.run_id)["HumanLoopName"])


@kit_step
def wait_for_review(session, timeout=3600.0):
    """04: wait until every loop of the run has ended."""
    return loops.wait(session.a2i, run_loop_names(session), timeout=timeout)


@kit_step
def read_outputs(session):
    """05: every completed loop's output, and the problems table (loops.Outputs)."""
    return loops.read(session.s3, session.a2i, run_loop_names(session))


@kit_step
def verdicts(found):
    """05: the verdicts of a loops.Outputs."""
    return loops.verdicts(found.outputs)


@kit_step
def moderate_folder(session, folder, max_concurrent=2):
    """06: upload and moderate a folder; (videos, batch result)."""
    videos = batch.videos_in_folder(session, folder)
    result = batch.moderate_many(
        session.rekognition, videos, max_concurrent=max_concurrent, run_tag=f"vmk-{session.run_id}"
    )
    return videos, result


@kit_step
def review_many(session, videos, result, rule_set, folder):
    """06: one review per video; one row per loop with its video and items."""
    rows, requests = [], []
    for v in videos:
        own = result.labels[result.labels["video"] == v.name]
        duration = media.mp4_duration_ms(Path(folder) / v.name)
        tuned = tuning.tune(own, rule_set, duration_ms=duration, plot=False)
        about = {"s3_uri": f"s3://{v.bucket}/{v.key}", "title": Path(v.name).stem}
        for r in loops.requests(
            tuned.items,
            run_id=session.run_id,
            video=about,
            duration_ms=tuned.duration_ms,
            rules_name=rule_set.name,
        ):
            requests.append(r)
            rows.append({"video": v.name, "HumanLoopName": r["HumanLoopName"], "items": r["items"]})
    start_loops(session, requests)
    return pd.DataFrame(rows, columns=["video", "HumanLoopName", "items"])


@kit_step
def clean_up(session, dry_run=False, **kwargs):
    """07: the run's teardown (answers kept unless delete_answers=True)."""
    return cleanup.teardown(
        session.sagemaker,
        session.a2i,
        session.s3,
        session.bucket,
        session.run_id,
        dry_run=dry_run,
        sns=session.client("sns"),
        sqs=session.client("sqs"),
        **kwargs,
    )


@kit_step
def leftovers(session):
    """07: what clean up would still delete (kept answers do not count)."""
    plan = clean_up(session, dry_run=True)
    return plan[~plan["action"].str.startswith("keep")]
