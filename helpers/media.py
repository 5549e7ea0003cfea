"""Getting the video to S3, checked before anything is sent."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from helpers import mp4
from helpers.errors import InputError
from helpers.session import KitSession, ensure_bucket

log = logging.getLogger(__name__)

#: Rekognition Video reads MP4, MOV and AVI containers with H.264 video.
VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi"}
MAX_VIDEO_BYTES = 10 * 1024**3
MAX_VIDEO_MS = 6 * 3600 * 1000


def check_video_file(path: str | Path) -> Path:
    """Return ``path`` if it is a readable video file Rekognition can take; else raise.

    Checks existence, the extension, the container, and from MP4/MOV headers the codec
    (H.264) and the duration (at most 6 h), and the size limit (10 GB).
    """
    p = Path(path).expanduser()
    try:
        str(p).encode("utf-8")
    except UnicodeEncodeError:
        shown = str(p).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise InputError(
            f"The name of `{shown}` is not UTF-8 text, so it cannot become an S3 key",
            "rename the file (and its folders) with plain letters, digits, '-' and '_', "
            "e.g. `mv` it in a terminal",
        ) from None
    if p.is_dir():
        raise InputError(
            f"`{p}` is a folder, not a video file",
            "give one video file here, or use the folder helpers (check_video_folder) for a "
            "folder of videos",
        )
    if not p.is_file():
        raise InputError(
            f"Video file `{p}` does not exist",
            "check `video_path` in the parameters cell (paths are relative to the notebook)",
        )
    if p.suffix.lower() not in VIDEO_SUFFIXES:
        raise InputError(
            f"`{p.name}` is not a video Rekognition reads",
            "use an H.264 video in an MP4, MOV or AVI container",
        )
    size = p.stat().st_size
    if size > MAX_VIDEO_BYTES:
        raise InputError(
            f"`{p.name}` is {size / 1024**3:.1f} GB", "Rekognition Video takes at most 10 GB"
        )
    with p.open("rb") as fh:
        container = mp4.sniff_container(fh.read(12))
    if container is None:
        raise InputError(
            f"`{p.name}` is not an MP4, MOV or AVI file",
            "re-encode it as H.264 MP4 (e.g. ffmpeg -i in -c:v libx264 -c:a aac out.mp4)",
        )
    meta = None
    if container in ("mp4", "mov"):
        problem = mp4.structure_problem(p)
        if problem:
            raise InputError(
                f"`{p.name}` is not a whole MP4/MOV file: {problem}",
                "copy or download it again (compare its size with the original), or re-encode "
                "it: ffmpeg -i in -c:v libx264 -c:a aac out.mp4",
            )
        meta = mp4.probe_file(p)
    if meta and meta.get("Codec") not in (None, "h264"):
        raise InputError(
            f"`{p.name}` is encoded with {meta['Codec']}; Rekognition Video reads H.264 only",
            "re-encode it: ffmpeg -i in -c:v libx264 -c:a aac out.mp4",
        )
    if meta is not None and not meta.get("DurationMillis"):
        raise InputError(
            f"`{p.name}` lasts 0 seconds (its header gives no duration); there is nothing to "
            "moderate",
            "check the export: a recording that was stopped at once, or an export that failed, "
            "gives such a file; export it again",
        )
    if meta and meta.get("DurationMillis", 0) > MAX_VIDEO_MS:
        hours = meta["DurationMillis"] / 3_600_000
        raise InputError(
            f"`{p.name}` lasts {hours:.1f} h; Rekognition Video takes at most 6 h",
            "cut it into parts of at most 6 hours and moderate each",
        )
    return p


def check_video_folder(folder: str | Path) -> list[Path]:
    """Every video of a local folder, each checked (:func:`check_video_file`), sorted by name.

    Call it before the first upload: one bad video stops the batch before anything is sent,
    with every bad file listed. Raises :class:`InputError` when the folder is missing, is a
    file, has no videos, or has a video that Rekognition would refuse.
    """
    root = Path(folder).expanduser()
    if not root.exists():
        raise InputError(
            f"The videos folder `{root}` does not exist (looked for from {Path.cwd()})",
            "check the folder in the parameters cell (paths are relative to the notebook)",
        )
    if not root.is_dir():
        raise InputError(
            f"`{root}` is a file, not a folder of videos",
            "give the folder that holds the videos, or upload one file with upload_video",
        )
    try:
        entries = sorted(root.iterdir())
    except PermissionError as err:
        raise InputError(
            f"The kit may not read the videos folder `{root}` ({err.strerror})",
            "give yourself read access to it (chmod u+rx)",
        ) from None
    paths = [p for p in entries if p.suffix.lower() in VIDEO_SUFFIXES and not p.is_dir()]
    if not paths:
        raise InputError(
            f"No video files in `{root}`",
            f"put files ending in {', '.join(sorted(VIDEO_SUFFIXES))} there",
        )
    bad: list[str] = []
    for p in paths:
        try:
            check_video_file(p)
        except InputError as err:
            bad.append(err.what)
    if bad:
        raise InputError(
            f"{len(bad)} of the {len(paths)} videos in `{root}` cannot be moderated, so none "
            f"was uploaded: " + "; ".join(bad),
            "fix or remove those files, then run the cell again",
        )
    return paths


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def upload_video(
    session: KitSession,
    path: str | Path,
    key: str | None = None,
    *,
    kms_key_id: str | None = None,
) -> dict[str, Any]:
    """Upload a checked video to the run's prefix and return where it went.

    Re-running uploads nothing when the object is already there with the same content. The
    bucket's region is checked against the session's first. The object is encrypted at rest:
    SSE-S3, or SSE-KMS with ``kms_key_id`` (the flow definition's role then needs
    ``kms:Decrypt`` on that key). Nothing is made public: reviewers reach the video through
    A2I's ``grant_read_access`` (a presigned URL).
    """
    p = check_video_file(path)
    ensure_bucket(session.s3, session.bucket, session.region, create=False)
    key = key or f"{session.prefix}/input/{p.name}"
    digest = sha256_of(p)
    try:
        head = session.s3.head_object(Bucket=session.bucket, Key=key)
        if head.get("Metadata", {}).get("sha256") == digest:
            log.info("s3://%s/%s is already uploaded", session.bucket, key)
            return _video_record(session, key, p, digest)
    except session.s3.exceptions.ClientError as err:
        if err.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    encryption: dict[str, str] = {"ServerSideEncryption": "AES256"}
    if kms_key_id:
        encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    session.s3.upload_file(
        str(p),
        session.bucket,
        key,
        ExtraArgs={
            "ContentType": "video/mp4" if p.suffix.lower() != ".mov" else "video/quicktime",
            "Metadata": {"sha256": digest},
            **encryption,
        },
    )
    return _video_record(session, key, p, digest)


def _video_record(session: KitSession, key: str, p: Path, digest: str) -> dict[str, Any]:
    return {
        "bucket": session.bucket,
        "key": key,
        "s3_uri": f"s3://{session.bucket}/{key}",
        "file": p.name,
        "bytes": p.stat().st_size,
        "sha256": digest,
    }


def mp4_duration_ms(path: str | Path) -> int | None:
    """The duration of an MP4/MOV file from its headers, or None when it cannot be read."""
    meta = mp4.probe_file(path)
    return meta.get("DurationMillis") if meta else None
