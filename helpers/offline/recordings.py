"""Recorded Rekognition moderation results, and what the stand-in derives from them.

A recording is a JSON file in the recordings directory (``datasets/recordings/`` by default)::

    {"video": {"file": "moderation-sample.mp4", "sha256": "<hex of the mp4 bytes>"},
     "ModerationModelVersion": "7.0",
     "VideoMetadata": {"Codec": ..., "DurationMillis": ..., "Format": ..., "FrameRate": ...,
                       "FrameHeight": ..., "FrameWidth": ..., "ColorRange": ...},
     "ModerationLabels": [{"Timestamp": 500,
                           "ModerationLabel": {"Confidence": 97.1, "Name": "Drinking",
                                               "ParentName": "Alcohol Use", "TaxonomyLevel": 3},
                           "ContentTypes": [...]}, ...]}

``ModerationLabels`` holds the TIMESTAMPS-mode rows of GetContentModeration with
``MinConfidence=0``, sorted by ``Timestamp``. The stand-in matches an uploaded video to a
recording by the SHA-256 of its bytes, then by file name (with a warning).

This module also sniffs the container of uploaded bytes and reads basic metadata from MP4/MOV
headers, for videos without a recording.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from helpers import mp4

LOG = logging.getLogger("helpers.offline")

QUICKTIME_FORMAT = mp4.QUICKTIME_FORMAT


@dataclasses.dataclass(frozen=True)
class Recording:
    """One recorded moderation result."""

    path: Path
    file: str
    sha256: str
    model_version: str
    video_metadata: dict[str, Any]
    rows: tuple[dict[str, Any], ...]


class RecordingError(ValueError):
    """A recording file that does not follow the format."""


def parse_recording(path: Path, document: Any) -> Recording:
    """Check one recording document and return it as a :class:`Recording`."""
    if not isinstance(document, dict):
        raise RecordingError(f"{path}: a recording is a JSON object")
    video = document.get("video")
    if not isinstance(video, dict) or not isinstance(video.get("file"), str):
        raise RecordingError(f"{path}: `video.file` (the video's file name) is missing")
    metadata = document.get("VideoMetadata") or {}
    if not isinstance(metadata, dict):
        raise RecordingError(f"{path}: `VideoMetadata` must be an object")
    spec = document.get("synthetic")
    if spec is not None:
        return _synthetic_recording(path, video["file"], document, metadata, spec)
    sha = video.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64:
        raise RecordingError(f"{path}: `video.sha256` must be 64 hex digits")
    rows = document.get("ModerationLabels")
    if not isinstance(rows, list):
        raise RecordingError(f"{path}: `ModerationLabels` must be a list")
    for index, row in enumerate(rows):
        label = row.get("ModerationLabel") if isinstance(row, dict) else None
        if (
            not isinstance(label, dict)
            or not isinstance(row.get("Timestamp"), int)
            or not isinstance(label.get("Name"), str)
            or not isinstance(label.get("Confidence"), (int, float))
        ):
            raise RecordingError(
                f"{path}: ModerationLabels[{index}] needs an integer Timestamp and a "
                "ModerationLabel with Name and Confidence"
            )
    ordered = sorted(rows, key=lambda r: r["Timestamp"])
    return Recording(
        path=path,
        file=video["file"],
        sha256=sha.lower(),
        model_version=str(document.get("ModerationModelVersion") or ""),
        video_metadata=metadata,
        rows=tuple(ordered),
    )


def _synthetic_recording(
    path: Path, file: str, document: dict[str, Any], metadata: dict[str, Any], spec: Any
) -> Recording:
    """A recording whose rows are generated (see :mod:`helpers.offline.synthetic`)."""
    from helpers.offline import synthetic

    duration = metadata.get("DurationMillis")
    if not isinstance(spec, dict) or not isinstance(duration, int) or duration <= 0:
        raise RecordingError(
            f"{path}: a synthetic recording needs `synthetic` options and "
            "`VideoMetadata.DurationMillis`"
        )
    try:
        rows = synthetic.rows(duration, **spec)
    except TypeError as err:
        raise RecordingError(f"{path}: bad `synthetic` options: {err}") from None
    return Recording(
        path=path,
        file=file,
        sha256="",
        model_version=str(document.get("ModerationModelVersion") or ""),
        video_metadata={**synthetic.metadata(duration), **metadata},
        rows=tuple(rows),
    )


_CACHE: dict[Path, tuple[tuple[tuple[str, float], ...], tuple[Recording, ...]]] = {}


def load_recordings(directory: Path) -> tuple[Recording, ...]:
    """Every valid recording in ``directory`` (cached until a file there changes).

    Files that are not valid recordings are skipped with a logged warning. A missing directory
    holds no recordings.
    """
    directory = Path(directory)
    if not directory.is_dir():
        LOG.info("recordings directory %s does not exist; no recordings", directory)
        return ()
    files = sorted(directory.glob("*.json"))
    signature = tuple((str(p), p.stat().st_mtime) for p in files)
    cached = _CACHE.get(directory)
    if cached and cached[0] == signature:
        return cached[1]
    found: list[Recording] = []
    for path in files:
        try:
            found.append(parse_recording(path, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as err:
            LOG.warning("skipping recording %s: %s", path, err)
    result = tuple(found)
    _CACHE[directory] = (signature, result)
    return result


def match_recording(directory: Path, sha256: str, key: str) -> tuple[Recording | None, str]:
    """The recording for a video, and why it was chosen (or why none was).

    Matches by the SHA-256 of the bytes first, then by the file name (basename of ``key``).
    """
    recordings = load_recordings(directory)
    for recording in recordings:
        if recording.sha256 == sha256.lower():
            return recording, f"matched recording {recording.path.name} by SHA-256"
    basename = key.rsplit("/", 1)[-1]
    for recording in recordings:
        if recording.file == basename and not recording.sha256:
            return (
                recording,
                f"generated synthetic recording {recording.path.name} for `{basename}`",
            )
        if recording.file == basename:
            return recording, (
                f"matched recording {recording.path.name} by file name `{basename}` although "
                f"the bytes differ (SHA-256 {sha256[:12]}… instead of {recording.sha256[:12]}…)"
            )
    return None, (
        f"no recording in {directory} has SHA-256 {sha256[:12]}… or file name `{basename}` "
        f"({len(recordings)} recording(s) there)"
    )


# --- GetContentModeration views -------------------------------------------------------------


def filter_rows(rows: Iterable[dict[str, Any]], min_confidence: float) -> list[dict[str, Any]]:
    """Deep copies of the rows whose label confidence is at least ``min_confidence``."""
    return [
        copy.deepcopy(row)
        for row in rows
        if float(row["ModerationLabel"]["Confidence"]) >= min_confidence
    ]


def _merge_content_types(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    best: dict[str, float] = {}
    for row in rows:
        for content_type in row.get("ContentTypes") or []:
            name = content_type.get("Name")
            if isinstance(name, str):
                confidence = float(content_type.get("Confidence", 0.0))
                best[name] = max(best.get(name, confidence), confidence)
    return [{"Confidence": c, "Name": n} for n, c in best.items()]


def segments(rows: Iterable[dict[str, Any]], gap_ms: int) -> list[dict[str, Any]]:
    """SEGMENTS view of TIMESTAMPS rows.

    Consecutive samples of one (Name, ParentName) at most ``gap_ms`` apart form one segment:
    ``Timestamp`` and ``StartTimestampMillis`` are the first sample's time,
    ``EndTimestampMillis`` the last one's, ``DurationMillis`` their difference, ``Confidence``
    the highest of the run and ``ContentTypes`` the union (highest confidence per name). A
    single sample gives a segment of duration 0. Segments come out sorted by start time.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["Timestamp"]):
        label = row["ModerationLabel"]
        groups.setdefault((label["Name"], label.get("ParentName", "")), []).append(row)
    out: list[dict[str, Any]] = []
    for run_rows in groups.values():
        for run in _runs(run_rows, gap_ms):
            first, last = run[0], run[-1]
            label = dict(first["ModerationLabel"])
            label["Confidence"] = max(float(r["ModerationLabel"]["Confidence"]) for r in run)
            start, end = int(first["Timestamp"]), int(last["Timestamp"])
            segment: dict[str, Any] = {
                "Timestamp": start,
                "ModerationLabel": label,
                "StartTimestampMillis": start,
                "EndTimestampMillis": end,
                "DurationMillis": end - start,
            }
            content_types = _merge_content_types(run)
            if content_types or any("ContentTypes" in r for r in run):
                segment["ContentTypes"] = content_types
            out.append(segment)
    out.sort(key=lambda s: (s["StartTimestampMillis"], s["EndTimestampMillis"]))
    return out


def _runs(rows: list[dict[str, Any]], gap_ms: int) -> Iterator[list[dict[str, Any]]]:
    run: list[dict[str, Any]] = []
    for row in rows:
        if run and row["Timestamp"] - run[-1]["Timestamp"] > gap_ms:
            yield run
            run = []
        run.append(row)
    if run:
        yield run


def sort_rows(rows: list[dict[str, Any]], sort_by: str) -> list[dict[str, Any]]:
    """Order rows as GetContentModeration does.

    ``TIMESTAMP``: by time (start time for segments). ``NAME``: alphabetically by label name
    and, within a label, by detection confidence (highest first), then by time — the order
    the API reference describes.
    """

    def start(row: dict[str, Any]) -> int:
        return int(row.get("StartTimestampMillis", row["Timestamp"]))

    if sort_by == "NAME":
        return sorted(
            rows,
            key=lambda r: (
                r["ModerationLabel"]["Name"],
                -float(r["ModerationLabel"]["Confidence"]),
                start(r),
            ),
        )
    return sorted(rows, key=start)


# --- container sniffing and metadata ---------------------------------------------------------
# The MP4/MOV reader is shared with the kit's own pre-upload checks (helpers/mp4.py).


def sniff_container(data: bytes) -> str | None:
    """``"mp4"``, ``"mov"``, ``"avi"`` or None when the bytes are none of the formats Rekognition
    Video accepts."""
    return mp4.sniff_container(data[:12])


def probe_video_metadata(data: bytes) -> dict[str, Any] | None:
    """Best-effort VideoMetadata from MP4/MOV headers (None when they cannot be read)."""
    return mp4.probe_bytes(data)
