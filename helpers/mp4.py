"""Reading MP4/MOV headers: container, duration, frame size, codec, frame rate.

Rekognition Video takes H.264 in MP4, MOV or AVI, up to 10 GB and 6 hours. The kit checks a
file before uploading it, and the offline stand-in reads the same facts from uploaded bytes, so
both use this one reader. It reads box headers and the ``moov`` box only (no decoding, no
ffprobe), from bytes or from a file of any size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

#: Rekognition reports this Format for MP4 and MOV files alike.
QUICKTIME_FORMAT = "QuickTime / MOV"
CODECS = {b"avc1": "h264", b"avc3": "h264", b"hvc1": "hevc", b"hev1": "hevc", b"mp4v": "mpeg4"}
#: A ``moov`` box larger than this is not read (real ones are a few MB at most).
MAX_MOOV_BYTES = 256 * 1024 * 1024


def sniff_container(head: bytes) -> str | None:
    """``"mp4"``, ``"mov"``, ``"avi"`` from a file's first 12 bytes, or None for anything else."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mov"
    return None


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO-BMFF boxes in ``data[start:end]``."""
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            if offset + 16 > end:
                return
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            return
        yield kind, offset + header, offset + size
        offset += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for box_kind, payload_start, payload_end in _boxes(data, start, end):
        if box_kind == kind:
            return payload_start, payload_end
    return None


def _find_moov(fh: BinaryIO, size: int) -> bytes | None:
    """The ``moov`` box (with its header) of a file, found by walking top-level box headers."""
    offset = 0
    while offset + 8 <= size:
        fh.seek(offset)
        header = fh.read(16)
        if len(header) < 8:
            return None
        box_size, kind = struct.unpack(">I4s", header[:8])
        if box_size == 1 and len(header) >= 16:
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            box_size = size - offset
        if box_size < 8:
            return None
        if kind == b"moov":
            if box_size > MAX_MOOV_BYTES:
                return None
            fh.seek(offset)
            return fh.read(box_size)
        offset += box_size
    return None


def structure_problem(path: str | Path) -> str | None:
    """What is wrong with an MP4/MOV file's top-level boxes, or None when they are whole.

    A file cut short (an interrupted download or copy) has a last box that claims more bytes
    than the file holds; a file with no ``moov`` box has no index, so nothing can play it.
    """
    p = Path(path)
    size = p.stat().st_size
    offset, seen = 0, set()
    with p.open("rb") as fh:
        while offset < size:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return f"it ends with {len(header)} stray bytes after the last box"
            box_size, kind = struct.unpack(">I4s", header[:8])
            if box_size == 1:
                if len(header) < 16:
                    return "it is cut short inside a box header"
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8:
                return f"its box at byte {offset:,} has an impossible size ({box_size})"
            if offset + box_size > size:
                missing = offset + box_size - size
                return (
                    f"it is cut short: its `{kind.decode('latin-1')}` box needs "
                    f"{missing:,} more bytes than the file has"
                )
            seen.add(kind)
            offset += box_size
    if b"moov" not in seen:
        return "it has no `moov` box (the index of its frames), so nothing can play it"
    return None


def probe_bytes(data: bytes) -> dict[str, Any] | None:
    """VideoMetadata-like facts from a whole file's bytes (None when there is no ``moov``)."""
    try:
        moov = _child(data, 0, len(data), b"moov")
        return _probe_moov(data, moov) if moov else None
    except (struct.error, IndexError, ZeroDivisionError):
        return None


def probe_file(path: str | Path) -> dict[str, Any] | None:
    """Like :func:`probe_bytes`, reading only box headers and the ``moov`` box of a file."""
    p = Path(path)
    with p.open("rb") as fh:
        moov = _find_moov(fh, p.stat().st_size)
    return probe_bytes(moov) if moov else None


def _probe_moov(data: bytes, moov: tuple[int, int]) -> dict[str, Any]:
    """Duration (``mvhd``) and, of the first video track, size, codec and frame rate."""
    meta: dict[str, Any] = {"Format": QUICKTIME_FORMAT, "ColorRange": "LIMITED"}
    mvhd = _child(data, *moov, b"mvhd")
    if mvhd:
        timescale, duration = _timescale_duration(data, mvhd[0])
        if timescale:
            meta["DurationMillis"] = int(duration * 1000 / timescale)
    for kind, trak_start, trak_end in _boxes(data, *moov):
        if kind != b"trak":
            continue
        mdia = _child(data, trak_start, trak_end, b"mdia")
        hdlr = _child(data, *mdia, b"hdlr") if mdia else None
        if not mdia or not hdlr or data[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
            continue
        tkhd = _child(data, trak_start, trak_end, b"tkhd")
        if tkhd:
            offset = tkhd[0] + (88 if data[tkhd[0]] == 1 else 76)
            width, height = struct.unpack(">II", data[offset : offset + 8])
            meta["FrameWidth"], meta["FrameHeight"] = width >> 16, height >> 16
        minf = _child(data, *mdia, b"minf")
        stbl = _child(data, *minf, b"stbl") if minf else None
        if stbl:
            stsd = _child(data, *stbl, b"stsd")
            if stsd and stsd[1] - stsd[0] >= 16:
                fourcc = data[stsd[0] + 12 : stsd[0] + 16]
                meta["Codec"] = CODECS.get(fourcc, fourcc.decode("latin-1").strip())
            stts = _child(data, *stbl, b"stts")
            mdhd = _child(data, *mdia, b"mdhd")
            if stts and mdhd:
                count = struct.unpack(">I", data[stts[0] + 4 : stts[0] + 8])[0]
                frames = sum(
                    struct.unpack(">I", data[stts[0] + 8 + 8 * i : stts[0] + 12 + 8 * i])[0]
                    for i in range(count)
                )
                timescale, duration = _timescale_duration(data, mdhd[0])
                if duration and timescale:
                    meta["FrameRate"] = round(frames * timescale / duration, 3)
        break
    return meta


def _timescale_duration(data: bytes, start: int) -> tuple[int, int]:
    """(timescale, duration) of an ``mvhd`` or ``mdhd`` payload (version 0 or 1)."""
    if data[start] == 1:
        return struct.unpack(">IQ", data[start + 20 : start + 32])
    return struct.unpack(">II", data[start + 12 : start + 20])


def header_only(
    duration_ms: int,
    *,
    codec: bytes = b"avc1",
    width: int = 640,
    height: int = 360,
    fps: int = 25,
) -> bytes:
    """An MP4 with real headers and no frames: ftyp, moov (mvhd, one video trak), empty mdat.

    It stands in for videos too long to keep in a repository (a 6-hour film) in tests and
    benchmarks: this reader and the offline stand-in see its duration, size, codec and frame
    rate; nothing can play it.
    """

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    timescale = 1000
    frames = max(1, duration_ms * fps // 1000)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, timescale, duration_ms)
        + struct.pack(">IH10x", 0x10000, 0x100)
        + matrix
        + bytes(24)
        + struct.pack(">I", 2),
    )
    tkhd = box(
        b"tkhd",
        # version/flags (enabled, in movie), times, track id, reserved, duration, layer, ...
        struct.pack(">IIIIII8xHHH2x", 3, 0, 0, 1, 0, duration_ms, 0, 0, 0)
        + matrix
        + struct.pack(">II", width << 16, height << 16),
    )
    mdhd = box(b"mdhd", struct.pack(">B3xIIIIHH", 0, 0, 0, timescale, duration_ms, 0x55C4, 0))
    hdlr = box(b"hdlr", struct.pack(">B3xI4s12x", 0, 0, b"vide") + b"video\x00")
    sample = struct.pack(">6xH16xHH", 1, width, height) + bytes(50)
    stsd = box(b"stsd", struct.pack(">B3xI", 0, 1) + box(codec, sample))
    stts = box(b"stts", struct.pack(">B3xIII", 0, 1, frames, max(1, duration_ms // frames)))
    stbl = box(b"stbl", stsd + stts)
    minf = box(b"minf", stbl)
    trak = box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + minf))
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    return ftyp + box(b"moov", mvhd + trak) + box(b"mdat", b"")
