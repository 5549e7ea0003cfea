"""Fixtures for the offline stand-in's tests: a tiny MP4, a recording of it, a mocked AWS."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.offline import OfflineSettings, mocked

FIXTURE_FILE = "fixture-sample.mp4"
BUCKET = "vmk-offline-tests"
KEY = f"videos/{FIXTURE_FILE}"


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def build_mp4(
    width: int = 640,
    height: int = 360,
    duration_ms: int = 12_000,
    fps: int = 25,
    codec: bytes = b"avc1",
    salt: bytes = b"",
) -> bytes:
    """A minimal ISO-BMFF file: ftyp + moov(mvhd, trak(tkhd, mdia(mdhd, hdlr, minf(stbl))))."""
    timescale = 1000
    frames = duration_ms * fps // 1000
    mvhd = _box(b"mvhd", b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, timescale, duration_ms))
    tkhd = _box(
        b"tkhd",
        b"\x00\x00\x00\x07"
        + struct.pack(">IIIII", 0, 0, 1, 0, duration_ms)
        + b"\x00" * 8
        + b"\x00" * 8
        + b"\x00" * 36
        + struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _box(
        b"mdhd", b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, fps * 1000, frames * 1000)
    )
    hdlr = _box(b"hdlr", b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00" + b"vide" + b"\x00" * 12)
    stsd = _box(b"stsd", b"\x00\x00\x00\x00" + struct.pack(">I", 1) + _box(codec, b"\x00" * 70))
    stts = _box(b"stts", b"\x00\x00\x00\x00" + struct.pack(">III", 1, frames, 1000))
    stbl = _box(b"stbl", stsd + stts)
    minf = _box(b"minf", stbl)
    mdia = _box(b"mdia", mdhd + hdlr + minf)
    trak = _box(b"trak", tkhd + mdia)
    moov = _box(b"moov", mvhd + trak)
    ftyp = _box(b"ftyp", b"isom" + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41")
    return ftyp + moov + _box(b"free", salt) + _box(b"mdat", b"\x00" * 64)


def _row(ms: int, name: str, parent: str, level: int, confidence: float) -> dict[str, Any]:
    return {
        "Timestamp": ms,
        "ModerationLabel": {
            "Confidence": confidence,
            "Name": name,
            "ParentName": parent,
            "TaxonomyLevel": level,
        },
        "ContentTypes": [{"Confidence": 88.0, "Name": "Animated"}] if name == "Weapons" else [],
    }


def sample_rows() -> list[dict[str, Any]]:
    """21 TIMESTAMPS rows; 19 have confidence >= 50."""
    rows = []
    for ms, conf in (
        (1000, 70.0),
        (1500, 81.5),
        (2000, 93.25),
        (2500, 64.0),
        (5000, 77.0),
        (5500, 90.0),
    ):
        rows.append(_row(ms, "Alcohol", "", 1, conf))
        rows.append(_row(ms, "Alcoholic Beverages", "Alcohol", 2, conf - 2))
    rows.append(_row(1500, "Drinking", "Alcohol Use", 3, 40.0))
    rows.append(_row(2000, "Drinking", "Alcohol Use", 3, 88.0))
    rows.append(_row(3000, "Smoking", "Drugs & Tobacco Paraphernalia & Use", 3, 30.0))
    for ms, conf in ((8000, 55.0), (9000, 99.0), (10500, 60.0)):
        rows.append(_row(ms, "Violence", "", 1, conf))
        rows.append(_row(ms, "Weapons", "Violence", 2, conf - 1))
    return sorted(rows, key=lambda r: r["Timestamp"])


@pytest.fixture
def mp4() -> Callable[..., bytes]:
    """The MP4 builder."""
    return build_mp4


@pytest.fixture(scope="session")
def fixture_video() -> bytes:
    """Bytes of the video the fixture recording was 'recorded' from."""
    return build_mp4()


@pytest.fixture
def recordings_dir(tmp_path: Path, fixture_video: bytes) -> Path:
    """A recordings directory holding one recording of :func:`fixture_video`."""
    directory = tmp_path / "recordings"
    directory.mkdir()
    document = {
        "video": {"file": FIXTURE_FILE, "sha256": hashlib.sha256(fixture_video).hexdigest()},
        "ModerationModelVersion": "7.0",
        "VideoMetadata": {
            "Codec": "h264",
            "DurationMillis": 12000,
            "Format": "QuickTime / MOV",
            "FrameRate": 25.0,
            "FrameHeight": 360,
            "FrameWidth": 640,
            "ColorRange": "LIMITED",
        },
        "ModerationLabels": sample_rows(),
    }
    (directory / "fixture-sample.json").write_text(json.dumps(document), encoding="utf-8")
    return directory


@pytest.fixture
def offline_settings(recordings_dir: Path) -> OfflineSettings:
    """Fast settings: everything ready at once, auto reviewer answering on the first describe."""
    return OfflineSettings(
        job_seconds=0,
        flow_definition_seconds=0,
        flow_definition_delete_seconds=0,
        loop_stop_seconds=0,
        answer_after_describes=0,
        recordings_dir=recordings_dir,
    )


@pytest.fixture
def aws(offline_settings: OfflineSettings) -> Iterator[Any]:
    """The in-process stand-in (``helpers.offline.mocked``)."""
    with mocked(offline_settings) as handle:
        yield handle


@pytest.fixture
def video(aws: Any, fixture_video: bytes) -> dict[str, Any]:
    """The fixture video uploaded to S3, as a Rekognition ``Video``."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=fixture_video)
    return {"S3Object": {"Bucket": BUCKET, "Name": KEY}}


@pytest.fixture
def make_flow(aws: Any) -> Callable[..., dict[str, str]]:
    """``make_flow(name, task_count=1, **HumanLoopConfig overrides)`` → ARNs and bucket."""
    return lambda name, task_count=1, **config: _make_flow_definition(
        aws, name, task_count, **config
    )


@pytest.fixture
def review_setup(make_flow: Callable[..., dict[str, str]]) -> dict[str, str]:
    """A bucket, a human task UI and an Active flow definition (TaskCount 1)."""
    return make_flow("vmk-flow-test")


@pytest.fixture
def input_content() -> Callable[[int], str]:
    """``input_content(n)``: a ``vmk-input/1`` InputContent with n items."""
    return _loop_input


def _make_flow_definition(
    aws: Any, name: str, task_count: int = 1, **config: Any
) -> dict[str, str]:
    """Create what a human loop needs; return the ARNs and the output bucket."""
    s3 = aws.client("s3")
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    sm = aws.client("sagemaker")
    team = sm.list_workteams()["Workteams"][0]["WorkteamArn"]
    uis = {
        u["HumanTaskUiName"]: u["HumanTaskUiArn"]
        for u in sm.list_human_task_uis()["HumanTaskUiSummaries"]
    }
    ui = (
        uis.get("vmk-ui-test")
        or sm.create_human_task_ui(
            HumanTaskUiName="vmk-ui-test", UiTemplate={"Content": "<crowd-form></crowd-form>"}
        )["HumanTaskUiArn"]
    )
    role = aws.client("iam").get_role(RoleName="VideoModerationKitNotebookRole")["Role"]["Arn"]
    human_loop_config = {
        "WorkteamArn": team,
        "HumanTaskUiArn": ui,
        "TaskTitle": "Review flagged moments",
        "TaskDescription": "Confirm or reject each flagged moment",
        "TaskCount": task_count,
        **config,
    }
    flow = sm.create_flow_definition(
        FlowDefinitionName=name,
        HumanLoopConfig=human_loop_config,
        OutputConfig={"S3OutputPath": f"s3://{BUCKET}/a2i-output/"},
        RoleArn=role,
        Tags=[{"Key": "video-moderation-kit", "Value": "test"}],
    )["FlowDefinitionArn"]
    return {"flow": flow, "ui": ui, "team": team, "role": role, "bucket": BUCKET}


def _loop_input(n_items: int = 5) -> str:
    """A ``vmk-input/1`` InputContent with ``n_items`` items."""
    items = [
        {
            "id": f"i{n:04d}",
            "label": "Drinking",
            "parent": "Alcohol Use",
            "category": "Alcohol",
            "start_ms": 1000 * n,
            "end_ms": 1000 * n + 500,
            "confidence": 90.0,
            "detections": 2,
        }
        for n in range(1, n_items + 1)
    ]
    return json.dumps(
        {
            "schema": "vmk-input/1",
            "video": {"title": "t", "s3_uri": f"s3://{BUCKET}/{KEY}", "duration_ms": 12000},
            "items": items,
            "rules": "default",
        }
    )
