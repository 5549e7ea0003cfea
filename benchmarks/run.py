"""`make bench`: the kit side by side with the lab's approach, against the offline stand-in.

Both run in this process against the in-process stand-in. Where waiting matters the clock is
simulated (the stand-in's clock moves instead of sleeping), so a 20-minute job takes
milliseconds. Results go to ``benchmarks/results/latest.json`` and ``latest.md``; every number
is also reported as a ratio to a baseline measured in the same run.

Run: ``.venv/bin/python benchmarks/run.py [--quick] [--only NAME ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # the baseline module beside this script

import lab_baseline  # noqa: E402

from helpers import moderation, mp4, notify, segments  # noqa: E402
from helpers.offline import OfflineSettings, mocked, synthetic  # noqa: E402
from helpers.offline import settings as offline_settings  # noqa: E402
from helpers.rules import RuleSet, apply_rules  # noqa: E402

SAMPLE = ROOT / "datasets" / "media" / "moderation-sample.mp4"
RESULTS = HERE / "results"


# --- helpers -------------------------------------------------------------------------------------


class Calls:
    """Counts the API calls a boto3 client makes."""

    def __init__(self, client: Any) -> None:
        self.count: dict[str, int] = {}
        client.meta.events.register("before-call.*.*", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.count[model.name] = self.count.get(model.name, 0) + 1

    def total(self, name: str) -> int:
        return self.count.get(name, 0)


def stand_in_clock() -> float:
    return offline_settings.now().timestamp()


def synthetic_video(folder: Path, s3: Any, bucket: str, name: str, duration_ms: int, **spec: Any):
    """A header-only MP4 uploaded as ``name`` and a synthetic recording for it."""
    doc = {
        "video": {"file": name},
        "ModerationModelVersion": "7.0",
        "VideoMetadata": {"DurationMillis": duration_ms},
        "synthetic": {"seed": 11, **spec},
    }
    (folder / f"{name}.json").write_text(json.dumps(doc))
    s3.put_object(Bucket=bucket, Key=f"bench/{name}", Body=mp4.header_only(duration_ms))
    return f"bench/{name}"


def row(metric: str, kit: Any, baseline: Any, unit: str, target: str, met: bool | None) -> dict:
    ratio = None
    if isinstance(kit, (int, float)) and isinstance(baseline, (int, float)) and baseline:
        ratio = round(kit / baseline, 4)
    return {
        "metric": metric,
        "kit": kit,
        "baseline": baseline,
        "unit": unit,
        "ratio": ratio,
        "target": target,
        "met": met,
    }


# --- sections ----------------------------------------------------------------------------------


def _wait_once(who: str, seconds: float) -> tuple[float, int]:
    """(seconds late, GetContentModeration calls) for one job of ``seconds``, simulated clock."""
    with mocked(OfflineSettings(job_seconds=seconds)) as aws:
        s3, rek = aws.client("s3"), aws.client("rekognition")
        s3.create_bucket(Bucket="bench")
        s3.upload_file(str(SAMPLE), "bench", "v.mp4")
        calls = Calls(rek)
        job = rek.start_content_moderation(
            Video={"S3Object": {"Bucket": "bench", "Name": "v.mp4"}}
        )["JobId"]
        ready = stand_in_clock() + seconds
        if who == "kit":
            moderation.wait_for_moderation(
                rek, job, sleep=aws.advance, clock=stand_in_clock, progress=False
            )
        else:
            lab_baseline.wait(rek, job, sleep=aws.advance)
        return stand_in_clock() - ready, calls.total("GetContentModeration")


def bench_waiting(quick: bool) -> list[dict]:
    """Time to notice completion and API calls per job, for 10 s, 2 min and 20 min jobs.

    Real jobs do not end on the lab's 5-second grid, so each duration is run with several
    offsets (+0 to +4.2 s) and the worst lateness and the mean number of calls are reported.
    """
    offsets = (0.0, 2.1) if quick else (0.0, 0.7, 1.4, 2.1, 2.8, 3.5, 4.2)
    out = []
    for seconds in (10, 120, 1200):
        stats = {}
        for who in ("kit", "lab"):
            runs = [(_wait_once(who, seconds + off), seconds + off) for off in offsets]
            worst = max(100 * late / duration for (late, _), duration in runs)
            stats[who] = (worst, sum(calls for (_, calls), _ in runs) / len(runs))
        (kit_late, kit_calls), (lab_late, lab_calls) = stats["kit"], stats["lab"]
        out.append(
            row(
                f"notice a {seconds} s job, polling (worst % of duration late)",
                round(kit_late, 1),
                round(lab_late, 1),
                "%",
                "≤ 10%",
                kit_late <= 10.0,
            )
        )
        out.append(
            row(
                f"GetContentModeration calls, {seconds} s job (mean)",
                round(kit_calls, 1),
                round(lab_calls, 1),
                "calls",
                "≤ ⅓ of baseline" if seconds == 1200 else "—",
                kit_calls <= lab_calls / 3 if seconds == 1200 else None,
            )
        )
    out.append(bench_notification(repeats=2 if quick else 5))
    return out


def bench_notification(repeats: int) -> dict:
    """Real-time latency from a job's end to the kit noticing it through SNS → SQS."""
    lates = []
    with mocked(OfflineSettings(job_seconds=1.0)) as aws:
        s3, rek = aws.client("s3"), aws.client("rekognition")
        sns, sqs = aws.client("sns"), aws.client("sqs")
        s3.create_bucket(Bucket="bench")
        s3.upload_file(str(SAMPLE), "bench", "v.mp4")
        role = "arn:aws:iam::123456789012:role/service-role/RekognitionNotify"
        notices = notify.create_notices(sns, sqs, "bench", role)
        inbox = notify.Inbox(sqs, notices)
        for _ in range(repeats):
            job = rek.start_content_moderation(
                Video={"S3Object": {"Bucket": "bench", "Name": "v.mp4"}},
                NotificationChannel=notices.channel(),
            )["JobId"]
            ready = time.monotonic() + 1.0
            moderation.wait_for_moderation(rek, job, inbox=inbox, progress=False, timeout=60)
            lates.append(time.monotonic() - ready)
    worst = max(lates)
    return row(
        "notice a job, SNS notification (s late, worst)",
        round(worst, 3),
        lab_baseline.POLL_SECONDS,
        "s",
        "≤ 1 s",
        worst <= 1.0,
    )


def bench_retrieval(quick: bool) -> list[dict]:
    """Labels retrieved vs labels that exist, on the sample and on a 6 h video."""
    out = []
    hours = 1 if quick else 6
    with mocked(OfflineSettings(job_seconds=0)) as aws:
        folder = Path(aws.settings.recordings_dir)
        tmp = _recordings_copy(aws)
        s3, rek = aws.client("s3"), aws.client("rekognition")
        s3.create_bucket(Bucket="bench")
        s3.upload_file(str(SAMPLE), "bench", "sample.mp4")
        long_key = synthetic_video(tmp, s3, "bench", f"film-{hours}h.mp4", hours * 3_600_000)
        sample_rows = json.loads((folder / "moderation-sample.json").read_text())[
            "ModerationLabels"
        ]
        long_rows = synthetic.rows(hours * 3_600_000, seed=11)
        cases = (("sample", "sample.mp4", sample_rows), (f"{hours} h video", long_key, long_rows))
        for name, key, recorded in cases:
            exist = sum(1 for r in recorded if r["ModerationLabel"]["Confidence"] >= 50)
            job = rek.start_content_moderation(
                Video={"S3Object": {"Bucket": "bench", "Name": key}}
            )["JobId"]
            kit = len(moderation.fetch_labels(rek, job))
            lab = len(lab_baseline.wait(rek, job)["ModerationLabels"])
            out.append(
                row(
                    f"detections retrieved, {name} (of {exist} that exist)",
                    kit,
                    lab,
                    "labels",
                    "100%",
                    kit == exist,
                )
            )
    return out


def _recordings_copy(aws: Any) -> Path:
    """A recordings folder for this run: the kit's recordings plus synthetic ones."""
    folder = Path(aws.settings.recordings_dir)
    tmp = RESULTS / "recordings"
    tmp.mkdir(parents=True, exist_ok=True)
    for rec in folder.glob("*.json"):
        (tmp / rec.name).write_text(rec.read_text())
    aws.settings.recordings_dir = tmp
    return tmp


def bench_items(quick: bool) -> list[dict]:
    """Review items per video and the coverage of flagged detections: kit vs the lab's way."""
    out = []
    videos = [("sample", None), ("1 h video", 3_600_000)]
    if not quick:
        videos.append(("6 h video", 6 * 3_600_000))
    rules = RuleSet.load("lab-v7")
    with mocked(OfflineSettings(job_seconds=0)) as aws:
        tmp = _recordings_copy(aws)
        s3, rek = aws.client("s3"), aws.client("rekognition")
        s3.create_bucket(Bucket="bench")
        s3.upload_file(str(SAMPLE), "bench", "sample.mp4")
        for name, duration in videos:
            key = "sample.mp4"
            if duration:
                key = synthetic_video(tmp, s3, "bench", f"items-{duration}.mp4", duration)
            job = rek.start_content_moderation(
                Video={"S3Object": {"Bucket": "bench", "Name": key}}
            )["JobId"]
            labels = moderation.fetch_labels(rek, job)
            flagged = apply_rules(labels, rules)
            items = segments.review_items(flagged, 1500)
            covered = set(np.concatenate(items["rows"].to_numpy())) if len(items) else set()
            coverage = len(covered & set(flagged.index)) / max(1, len(flagged))
            # The lab's way: one review item per flagged timestamp row (here on every page, to
            # be fair to it), and, as the lab is written, only the first page's rows.
            lab_items = len(flagged)
            first_page = lab_baseline.payload(lab_baseline.wait(rek, job), "bench", key)
            sent = json.loads(first_page["InputContent"])["Results"]["ConditionMissed"]
            sent_keys = {(r["Timestamp"], r["ModerationLabel"]["Name"]) for r in sent}
            flagged_keys = set(zip(flagged["timestamp_ms"], flagged["label"], strict=True))
            lab_coverage = len(sent_keys & flagged_keys) / max(1, len(flagged_keys))
            target = "≥ 10× fewer, 100% coverage" if name == "1 h video" else "—"
            met = (
                (lab_items >= 10 * len(items) and coverage == 1.0) if name == "1 h video" else None
            )
            out.append(
                row(
                    f"review items, {name} ({len(labels)} detections, {len(flagged)} flagged)",
                    len(items),
                    lab_items,
                    "items",
                    target,
                    met,
                )
            )
            out.append(
                row(
                    f"coverage of flagged detections, {name} (baseline: lab as written)",
                    round(100 * coverage, 1),
                    round(100 * lab_coverage, 1),
                    "%",
                    "100%",
                    coverage == 1.0,
                )
            )
    return out


def _measure(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """(seconds, peak MiB allocated, result) of ``work()``.

    Timed in one run and traced in a second: tracemalloc slows allocation-heavy code several
    times over, so its run is not timed.
    """
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 1024**2, result


def bench_scale(quick: bool) -> list[dict]:
    """Seconds and peak memory: fetch + filter + segment 100k, filter + segment 1M detections."""
    out = []
    rules = RuleSet.load("broadcast-standard")
    duration = 5 * 3_600_000  # over 100,000 detections at MinConfidence 50
    with mocked(OfflineSettings(job_seconds=0)) as aws:
        tmp = _recordings_copy(aws)
        s3, rek = aws.client("s3"), aws.client("rekognition")
        s3.create_bucket(Bucket="bench")
        key = synthetic_video(tmp, s3, "bench", "scale.mp4", duration)
        job = rek.start_content_moderation(Video={"S3Object": {"Bucket": "bench", "Name": key}})[
            "JobId"
        ]
        rek.get_content_moderation(JobId=job, MaxResults=1)  # the stand-in prepares its rows

        def fetch_filter_segment() -> tuple[int, int]:
            labels = moderation.fetch_labels(rek, job)
            items = segments.review_items(apply_rules(labels, rules), 1500)
            return len(labels), len(items)

        seconds, peak, (detections, items) = _measure(fetch_filter_segment)
    out.append(
        row(
            f"fetch + filter + segment {detections:,} detections ({items:,} items)",
            round(seconds, 2),
            None,
            "s",
            "< 5 s",
            seconds < 5.0,
        )
    )
    out.append(row("  peak memory of the above", round(peak), None, "MiB", "—", None))

    six_hours = synthetic.rows(6 * 3_600_000, seed=11)
    base = moderation.labels_frame(six_hours)
    copies = 2 if quick else -(-1_000_000 // len(base))
    frames = [
        base.assign(timestamp_ms=base["timestamp_ms"] + i * 6 * 3_600_000) for i in range(copies)
    ]
    big = pd.concat(frames, ignore_index=True).iloc[: (200_000 if quick else 1_000_000)].copy()
    big["start_ms"] = big["timestamp_ms"]
    big["end_ms"] = big["timestamp_ms"]
    big.attrs["aggregate_by"] = "TIMESTAMPS"
    seconds, peak, items = _measure(lambda: segments.review_items(apply_rules(big, rules), 1500))
    out.append(
        row(
            f"filter + segment {len(big):,} detections ({len(items):,} items)",
            round(seconds, 2),
            None,
            "s",
            "< 2 s",
            seconds < 2.0,
        )
    )
    out.append(
        row(
            "  peak memory of the above (beyond the labels)",
            round(peak),
            None,
            "MiB",
            "< 1024 MiB",
            peak < 1024,
        )
    )
    return out


#: How many times ``make bench`` runs the lab and its floor, alternating.
LAB_RUNS = 5


def bench_lab(quick: bool) -> list[dict]:
    """The whole offline lab's wall time vs its floor: as many empty notebooks, run the same way.

    Both go through :func:`helpers.demo.execute`: papermill, the kit's engine ``vmk`` (a warmed
    stand-in, each notebook in a fresh kernel started while the one before runs, parameters as
    ``make demo`` gives them), five times each, alternating (this machine's floor alone ranges
    from 2.8 to 4.1 s between runs; a median of five moves less). Once more each with papermill's
    default engine, for information: what the kit's engine saves.
    """
    import nbformat

    from helpers import demo

    fast = OfflineSettings.instant()
    notebooks = demo.notebook_paths()
    empty_dir = RESULTS / "empty-notebooks"
    empty_dir.mkdir(parents=True, exist_ok=True)
    empties = []
    for path in notebooks:
        book = nbformat.v4.new_notebook()
        book.metadata = {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        }
        nbformat.write(book, empty_dir / path.name)
        empties.append(empty_dir / path.name)
    out = RESULTS / "executed"

    def both(engine: str | None) -> tuple[float, float, dict[str, float]]:
        floor, problems, _, _ = demo.execute(
            empties, out / "empty", fast, quiet=True, engine=engine
        )
        assert not problems, problems
        lab, problems, _, timings = demo.execute(
            notebooks, out / "lab", fast, quiet=True, engine=engine
        )
        assert not problems, problems
        return floor, lab, timings

    floors, labs, slowest_times = [], [], {}
    # alternate the two so that the machine's slow moments fall on both; report medians
    for _ in range(1 if quick else LAB_RUNS):
        floor, lab, timings = both("vmk")
        floors.append(floor)
        labs.append(lab)
        for name, seconds in timings.items():
            slowest_times.setdefault(name, []).append(seconds)
    floor, lab = statistics.median(floors), statistics.median(labs)
    timings = {name: statistics.median(times) for name, times in slowest_times.items()}
    slowest = max(timings, key=timings.get)
    default_floor, default_lab, _ = both(None)
    return [
        row(
            f"whole offline lab, {len(notebooks)} notebooks through papermill, engine vmk "
            f"(s, median of {len(labs)}; baseline: empty notebooks)",
            round(lab, 1),
            round(floor, 1),
            "s",
            "≤ 2.5× the floor",
            lab <= 2.5 * floor,
        ),
        row(f"  slowest notebook: {slowest}", round(timings[slowest], 2), None, "s", "—", None),
        row(
            "  the same with papermill's default engine (s, once; baseline: empty notebooks)",
            round(default_lab, 1),
            round(default_floor, 1),
            "s",
            "—",
            None,
        ),
    ]


def bench_page(quick: bool) -> list[dict]:
    """The reviewer page: time to ready with 2,000 and 10,000 items, scrolling, keystrokes.

    The list is windowed: only the rows near its scroll position are in the page. So "ready"
    means, from navigation start by the page's own clock: the page's setup script has finished
    (``data-ready`` on ``#vmk``), every item's timeline marker is in the page, the list reports
    every item (``aria-rowcount``: the items plus the header row) and its first screenful of rows
    is rendered and laid out (the check reads the rows' boxes, so layout is inside the time).
    The baseline is the same page with 10 items.

    Scrolling: on the ready page, the time from setting the list's scroll position to its end to
    the frame after which the last item's row is in the page and laid out (informational: it
    should stay a frame or two, whatever the number of items).

    Keystrokes: a scripted keyboard-only review of 50 items (verdicts 1, 2 and 4 in turn, no
    mouse, auto-advance at its default) counts every key pressed until each item has its
    verdict and checks that each got the intended one. The baseline, in the same run, is the
    same review with auto-advance off, as the page was before v3: each verdict, then N.
    """
    import shutil

    from playwright.sync_api import sync_playwright

    from helpers import answers, preview

    def task(count: int) -> dict[str, Any]:
        categories = ["Alcohol", "Violence", "Drugs & Tobacco", "Gambling"]
        step = max(1, 50_000 // max(count, 1))
        items = [
            {
                "id": f"i-{n:05d}",
                "label": f"Label {n}",
                "parent": "Parent",
                "category": categories[n % 4],
                "start_ms": step * n,
                "end_ms": step * n + (n % 3) * 400,
                "confidence": 80.0 + n % 20,
                "detections": 2,
            }
            for n in range(count)
        ]
        return {
            "schema": answers.INPUT_SCHEMA,
            "video": {"title": "bench", "s3_uri": "s3://bench/sample.mp4", "duration_ms": 54_000},
            "items": items,
            "rules": "lab-v7",
        }

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    # A screenful: the rows that fit the list's 360 px (or all of them, for a short list).
    is_ready = """(count) => {
        const root = document.getElementById('vmk'), table = document.getElementById('vmk-table');
        if (!root || !root.hasAttribute('data-ready')) return false;
        if (document.querySelectorAll('.vmk-mark').length !== count) return false;
        if (table.getAttribute('aria-rowcount') !== String(count + 1)) return false;
        const rows = document.querySelectorAll('#vmk-items tr[data-id]');
        if (rows.length < Math.min(count, 12)) return false;
        return rows[0].getBoundingClientRect().height > 0;
    }"""
    scroll_to_end = """(lastId) => new Promise((resolve) => {
        const list = document.getElementById('vmk-list'), started = performance.now();
        list.scrollTop = list.scrollHeight;
        const check = () => {
            const last = document.querySelector(`#vmk-items tr[data-id='${lastId}']`);
            if (last && last.getBoundingClientRect().height > 0) {
                resolve((performance.now() - started) / 1000);
            } else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
    })"""
    ready, scrolled = {}, {}
    sizes = (10, 2000, 10000)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=args)
        for count in sizes:
            times, scrolls = [], []
            with preview.serve(task(count), {"s3://bench/sample.mp4": SAMPLE}) as server:
                for _ in range(2 if quick else 5):
                    page = browser.new_page()
                    page.goto(server.url)
                    page.wait_for_function(is_ready, arg=count, polling=5, timeout=60_000)
                    times.append(page.evaluate("performance.now()") / 1000)
                    scrolls.append(page.evaluate(scroll_to_end, f"i-{count - 1:05d}"))
                    page.close()
            ready[count] = sorted(times)[len(times) // 2]
            scrolled[count] = sorted(scrolls)[len(scrolls) // 2]
        keys, verdicts = _keyboard_review(browser, task(50))
        manual_keys, manual_verdicts = _keyboard_review(browser, task(50), auto=False)
        browser.close()
    per_verdict = keys / verdicts
    manual = manual_keys / manual_verdicts
    return [
        row(
            "reviewer page ready with 2,000 items (s, median; baseline: 10 items)",
            round(ready[2000], 3),
            round(ready[10], 3),
            "s",
            "< 0.5 s",
            ready[2000] < 0.5,
        ),
        row(
            "reviewer page ready with 10,000 items (s, median; baseline: 10 items)",
            round(ready[10000], 3),
            round(ready[10], 3),
            "s",
            "< 1.5 s",
            ready[10000] < 1.5,
        ),
        row(
            "reviewer page: scroll the list to the last of 2,000 items (s, median; baseline: 10)",
            round(scrolled[2000], 3),
            round(scrolled[10], 3),
            "s",
            "—",
            None,
        ),
        row(
            "reviewer page: keystrokes per verdict, keyboard-only review of 50 items "
            "(baseline: auto-advance off, verdict then N, as before v3)",
            round(per_verdict, 2),
            round(manual, 2),
            "keys",
            "1",
            per_verdict <= 1.0,
        ),
    ]


def _keyboard_review(
    browser: Any, task_input: dict[str, Any], auto: bool = True
) -> tuple[int, int]:
    """Keys pressed and verdicts given in a scripted keyboard-only review of ``task_input``.

    The script presses a verdict key for the item the page shows as current, and nothing else
    (with ``auto`` False, the setting is turned off first and N follows each verdict but the
    last); then Ctrl+Enter submits (not counted: one key per review, not per verdict). Every
    item must have got the intended verdict in the submitted answer, or the row fails.
    """
    from helpers import answers, preview

    plan = {"1": "violation", "2": "not_violation", "4": "unsure"}
    wanted: dict[str, str] = {}
    keys = 0
    with preview.serve(task_input, {"s3://bench/sample.mp4": SAMPLE}) as server:
        page = browser.new_page()
        page.goto(server.url)
        page.wait_for_function("document.getElementById('vmk').hasAttribute('data-ready')")
        if not auto:
            page.uncheck("#vmk-auto")  # a setting, not part of the review
        count = len(task_input["items"])
        for n in range(count):
            key = "124"[n % 3]
            wanted[page.text_content("#vmk-cur-id")] = plan[key]
            page.keyboard.press(key)
            keys += 1
            if not auto and n < count - 1:
                page.keyboard.press("n")
                keys += 1
        page.keyboard.press("Control+Enter")
        deadline = time.monotonic() + 10
        while not server.answers and time.monotonic() < deadline:
            time.sleep(0.05)
        page.close()
        if not server.answers:
            raise RuntimeError("the keyboard-only review was not submitted")
        doc = answers.parse_answer_content(server.answers[0], task_input["items"])
    got = {item["id"]: item["verdict"] for item in doc["items"]}
    if got != wanted:
        raise RuntimeError("the keyboard-only review gave other verdicts than the script meant")
    return keys, len(got)


SECTIONS: dict[str, Callable[[bool], list[dict]]] = {
    "waiting": bench_waiting,
    "retrieval": bench_retrieval,
    "items": bench_items,
    "scale": bench_scale,
    "lab": bench_lab,
    "page": bench_page,
}


# --- report ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f"{pages / 1024**3:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory": mem,
        "boto3": boto3.__version__,
    }


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Measured {results['when']} on {m['platform']}, {m['cpus']} CPUs, {m['memory']}, "
        f"Python {m['python']}.",
        "",
        "| what | kit | lab baseline | kit / baseline | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        met = {True: "yes", False: "**no**", None: "—"}[r["met"]]
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.3g}"
        lines.append(
            f"| {r['metric']} | {r['kit']} | {r['baseline']} | {ratio} | {r['target']} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("--only", nargs="*", choices=sorted(SECTIONS), help="run these sections")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows: list[dict] = []
    for name, section in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        started = time.monotonic()
        print(f"{name} ...", flush=True)
        rows.extend(section(args.quick))
        print(f"  {time.monotonic() - started:.1f} s", flush=True)
    results = {
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "quick": args.quick,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    table = markdown(results)
    (args.out / "latest.md").write_text(table)
    print()
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
