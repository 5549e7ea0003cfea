#!/usr/bin/env python3
"""Make the kit's synthetic moderation sample video with ffmpeg.

The video shows no real objectionable footage. Each scene of ``sample_scenes.json`` gets its
own background colour and a moving shape, a caption saying what the scene stands for and which
v7 labels Rekognition would report in it, an on-screen cue while a labelled subject is "in view",
and a running timecode ``mm:ss.ff`` (ff = frame within the second) with the frame number, so a
human reviewer can judge each flagged moment and tests can check seeking.

Output: H.264 (Main profile, yuv420p, limited range) + AAC mono, MP4 with ``+faststart``,
constant frame rate. The file is written atomically (temporary file, checked, then renamed).
With the same ffmpeg build and fonts the output is byte-for-byte the same on every run.

Usage::

    python datasets/make_sample_video.py   # -> datasets/media/moderation-sample.mp4
    python datasets/make_sample_video.py --out /tmp/x.mp4 --crf 26

Needs Debian's ``ffmpeg`` (with libx264, drawtext/libfreetype) and ``fonts-dejavu-core``.
After a new video, regenerate the recording: ``python datasets/make_recording.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _scenes  # noqa: E402

DEFAULT_OUT = HERE / "media" / "moderation-sample.mp4"
#: The size budget of the committed sample (the brief: under 2 MB).
MAX_BYTES = 2_000_000
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)
FONTS = {"sans": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
FONT_PACKAGE = "fonts-dejavu-core"
CAPTION_WIDTH = 60  # characters per caption line at the caption font size


class BuildError(RuntimeError):
    """Something the user must fix (a missing tool, font or filter); the message says how."""


def find_tools() -> tuple[str, str]:
    """Paths of ffmpeg and ffprobe, checking the build has what the video needs."""
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if not ffmpeg or not ffprobe:
        raise BuildError(
            "ffmpeg/ffprobe not found: install the Debian package 'ffmpeg' "
            "(sudo apt-get install -y ffmpeg)"
        )
    filters = _run([ffmpeg, "-hide_banner", "-filters"]).stdout
    for name in ("drawtext", "drawbox", "overlay", "testsrc2", "aevalsrc"):
        if f" {name} " not in filters:
            raise BuildError(
                f"this ffmpeg has no {name!r} filter (drawtext needs libfreetype): install "
                "Debian's full build, package 'ffmpeg' (sudo apt-get install -y ffmpeg)"
            )
    encoders = _run([ffmpeg, "-hide_banner", "-encoders"]).stdout
    for name in ("libx264", "aac"):
        if f" {name} " not in encoders:
            raise BuildError(
                f"this ffmpeg has no {name!r} encoder: install Debian's package 'ffmpeg' "
                "(sudo apt-get install -y ffmpeg)"
            )
    return ffmpeg, ffprobe


def find_fonts(font_dir: str | None = None) -> dict[str, str]:
    """The DejaVu font files drawtext uses (fixed files, so the output stays deterministic)."""
    dirs = [font_dir] if font_dir else list(FONT_DIRS)
    found: dict[str, str] = {}
    for role, filename in FONTS.items():
        for d in dirs:
            candidate = Path(d) / filename
            if candidate.is_file():
                found[role] = str(candidate)
                break
        else:
            raise BuildError(
                f"font {filename} not found in {', '.join(dirs)}: install the Debian package "
                f"'{FONT_PACKAGE}' (sudo apt-get install -y {FONT_PACKAGE}) or pass --font-dir"
            )
    for path in found.values():
        if "'" in path or "\\" in path:
            raise BuildError(f"font path {path!r} contains a quote or backslash; move the fonts")
    return found


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def _q(value: str) -> str:
    """Quote a filter option value (protects , : ; [ ] inside expressions and paths)."""
    if "'" in value:
        raise BuildError(f"cannot quote {value!r} for the filtergraph")
    return f"'{value}'"


def _colour(value: str) -> str:
    return "0x" + value.lstrip("#")


def _window(a: float, b: float, fps: int) -> str:
    """An ``enable`` expression true for frames in [a, b), robust to float timestamps."""
    half = 0.5 / fps
    return f"gte(t,{a - half:.3f})*lt(t,{b - half:.3f})"


def build_filtergraph(scenes: _scenes.SceneList, fonts: dict[str, str], textdir: Path) -> str:
    """The ffmpeg filtergraph drawing every scene; text files are written into ``textdir``."""
    w, h, fps, dur = scenes.width, scenes.height, scenes.fps, scenes.duration_s
    n = len(scenes.scenes)
    chains: list[str] = [f"testsrc2=size={w}x{h}:rate={fps}:duration={dur}[base]"]
    video: list[str] = []
    # Backgrounds: a flat colour per scene painted over the test pattern.
    for sc in scenes.scenes:
        if sc.background in _scenes.PATTERN_BACKGROUNDS:
            continue
        video.append(
            f"drawbox=x=0:y=0:w=iw:h=ih:color={_colour(sc.background)}:t=fill"
            f":enable={_q(_window(sc.start_s, sc.end_s, fps))}"
        )
    video.append("format=yuv420p")
    chains.append("[base]" + ",".join(video) + "[bg]")
    # One moving shape per scene, each with its own speed and path.
    current = "bg"
    for i, sc in enumerate(scenes.scenes, start=1):
        size = 56 + 8 * (i % 4)
        period = 3.0 + 0.7 * i
        chains.append(
            f"color=c={_colour(sc.accent)}:size={size}x{size}:rate={fps}:duration={dur}[shape{i}]"
        )
        x = f"(W-w)/2+(W-w)*0.42*sin(2*PI*(t-{sc.start_s})/{period:.1f})"
        y = f"175-h/2+28*sin(4*PI*(t-{sc.start_s})/{period:.1f}+{i})"
        chains.append(
            f"[{current}][shape{i}]overlay=x={_q(x)}:y={_q(y)}:eval=frame"
            f":enable={_q(_window(sc.start_s, sc.end_s, fps))}[v{i}]"
        )
        current = f"v{i}"
    # Text: header, timecode, captions, cues.
    text: list[str] = []

    def textfile(name: str, content: str) -> str:
        path = textdir / name
        path.write_text(content, encoding="utf-8")
        return _q(str(path))

    header = f"VMK synthetic sample · CC0 · {n} scenes"
    text.append("drawbox=x=0:y=0:w=iw:h=40:color=black:t=fill")
    text.append(
        f"drawtext=fontfile={_q(fonts['bold'])}:textfile={textfile('header.txt', header)}"
        ":expansion=none:fontsize=15:fontcolor=white:x=12:y=(40-th)/2"
    )
    timecode = (
        f"%{{eif:floor(n/{60 * fps}):d:2}}:%{{eif:mod(floor(n/{fps}),60):d:2}}"
        f".%{{eif:mod(n,{fps}):d:2}}  frame %{{eif:n:d:4}}"
    )
    text.append(
        f"drawtext=fontfile={_q(fonts['mono'])}:textfile={textfile('timecode.txt', timecode)}"
        ":fontsize=18:fontcolor=white:x=w-tw-12:y=(40-th)/2"
    )
    for i, sc in enumerate(scenes.scenes, start=1):
        caption = textwrap.fill(sc.caption, width=CAPTION_WIDTH)
        text.append(
            f"drawtext=fontfile={_q(fonts['sans'])}"
            f":textfile={textfile(f'caption{i}.txt', caption)}:expansion=none"
            ":fontsize=17:line_spacing=5:fontcolor=white:x=16:y=h-th-18"
            ":box=1:boxcolor=black@0.75:boxborderw=8"
            f":enable={_q(_window(sc.start_s, sc.end_s, fps))}"
        )
        for j, lab in enumerate(sc.labels, start=1):
            if not lab.cue:
                continue
            cue = f"● {lab.cue}"
            cue_file = textfile(f"cue{i}_{j}.txt", cue)
            enable = "+".join(_window(a, b, fps) for a, b in lab.on)
            text.append(
                f"drawtext=fontfile={_q(fonts['bold'])}:textfile={cue_file}:expansion=none"
                f":fontsize=18:fontcolor=black:x=16:y={52 + 30 * (j - 1)}"
                f":box=1:boxcolor=0xffd23f@0.95:boxborderw=6:enable={_q(enable)}"
            )
    chains.append(f"[{current}]" + ",".join(text) + "[v]")
    # Audio: a short beep at the start of every scene, pitch rising scene by scene.
    beeps = "+".join(
        f"between(t,{sc.start_s},{sc.start_s + 0.15:.2f})*sin(2*PI*{440 + 110 * i}*t)"
        for i, sc in enumerate(scenes.scenes)
    )
    chains.append(f"aevalsrc=exprs={_q(f'0.25*({beeps})')}:sample_rate=44100:duration={dur}[a]")
    return ";".join(chains)


def build_command(
    ffmpeg: str, graph: str, out: Path, scenes: _scenes.SceneList, crf: int
) -> list[str]:
    """The ffmpeg command line; every option that affects determinism is pinned."""
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-t",
        f"{scenes.duration_s}",
        "-r",
        str(scenes.fps),
        # Video: H.264 Main, yuv420p, limited range, BT.709 tags, keyframe every 2 s.
        "-c:v",
        "libx264",
        "-preset",
        "medium",
        "-profile:v",
        "main",
        "-level:v",
        "3.0",
        "-pix_fmt",
        "yuv420p",
        "-crf",
        str(crf),
        "-maxrate",
        "400k",
        "-bufsize",
        "800k",
        "-g",
        str(2 * scenes.fps),
        "-threads",
        "1",  # x264's output depends on its thread count; one thread everywhere
        "-color_range",
        "tv",
        "-colorspace",
        "bt709",
        "-color_primaries",
        "bt709",
        "-color_trc",
        "bt709",
        # Audio: AAC-LC mono.
        "-c:a",
        "aac",
        "-b:a",
        "48k",
        "-ac",
        "1",
        "-ar",
        "44100",
        # Container: moov first, no timestamps or encoder strings in the metadata.
        "-movflags",
        "+faststart",
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-metadata",
        f"title={scenes.title}",
        "-metadata",
        "comment=Synthetic sample of the video moderation kit, CC0 1.0; see datasets/README.md",
        "-f",
        "mp4",
        str(out),
    ]


def top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4 file's top-level boxes, in order."""
    boxes: list[str] = []
    with path.open("rb") as f:
        size_total = path.stat().st_size
        pos = 0
        while pos < size_total:
            f.seek(pos)
            header = f.read(16)
            size, kind = int.from_bytes(header[:4], "big"), header[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = size_total - pos
            if size < 8:
                raise BuildError(f"{path}: corrupt box {kind!r} at {pos}")
            boxes.append(kind)
            pos += size
    return boxes


def probe(ffprobe: str, path: Path) -> dict:
    out = _run(
        [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path]
    ).stdout
    return json.loads(out)


def check(info: dict, path: Path, max_bytes: int) -> dict[str, object]:
    """Check the encoded file meets the kit's requirements; return a summary."""
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    size = path.stat().st_size
    problems = []
    if video["codec_name"] != "h264" or video.get("pix_fmt") != "yuv420p":
        problems.append(f"video is {video['codec_name']}/{video.get('pix_fmt')}")
    if video.get("profile") not in ("Main", "Constrained Baseline", "Baseline"):
        problems.append(f"H.264 profile {video.get('profile')}")
    if video["r_frame_rate"] != video["avg_frame_rate"]:
        problems.append(f"variable frame rate {video['r_frame_rate']} vs {video['avg_frame_rate']}")
    if audio["codec_name"] != "aac":
        problems.append(f"audio is {audio['codec_name']}")
    boxes = top_level_boxes(path)
    if boxes[0] != "ftyp" or boxes.index("moov") > boxes.index("mdat"):
        problems.append(f"not faststart: top-level boxes {boxes}")
    if size >= max_bytes:
        problems.append(f"{size} bytes, the budget is under {max_bytes}")
    if problems:
        raise BuildError(f"{path}: " + "; ".join(problems))
    return {
        "bytes": size,
        "duration_s": float(info["format"]["duration"]),
        "codec": f"{video['codec_name']} ({video.get('profile')}, {video['pix_fmt']})",
        "size": f"{video['width']}x{video['height']}",
        "fps": video["r_frame_rate"],
        "audio": f"{audio['codec_name']} {audio.get('channels')} ch {audio.get('sample_rate')} Hz",
        "boxes": " ".join(boxes),
    }


def make_video(
    out: Path,
    scenes_file: Path = _scenes.SCENES_FILE,
    crf: int = 24,
    font_dir: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> dict[str, object]:
    """Encode the sample into ``out`` atomically and return a summary of the checked file."""
    scenes = _scenes.load(scenes_file)
    ffmpeg, ffprobe = find_tools()
    fonts = find_fonts(font_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp-{os.getpid()}.mp4")
    try:
        with tempfile.TemporaryDirectory(prefix="vmk-video-") as textdir:
            graph = build_filtergraph(scenes, fonts, Path(textdir))
            try:
                _run(build_command(ffmpeg, graph, tmp, scenes, crf))
            except subprocess.CalledProcessError as exc:
                raise BuildError(f"ffmpeg failed:\n{exc.stderr.strip()}") from None
        summary = check(probe(ffprobe, tmp), tmp, max_bytes)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    summary["sha256"] = hashlib.sha256(out.read_bytes()).hexdigest()
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Afterwards run datasets/make_recording.py: the recording carries the "
        "video's sha256 and metadata.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="where to write the MP4 (default: datasets/media/moderation-sample.mp4)",
    )
    parser.add_argument(
        "--scenes",
        type=Path,
        default=_scenes.SCENES_FILE,
        help="scene list (default: datasets/sample_scenes.json)",
    )
    parser.add_argument(
        "--crf", type=int, default=24, help="x264 quality, lower is bigger (default 24)"
    )
    parser.add_argument(
        "--font-dir",
        help=f"folder holding {', '.join(FONTS.values())} (default: Debian's {FONT_PACKAGE})",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=MAX_BYTES,
        help=f"fail if the file is not smaller than this (default {MAX_BYTES})",
    )
    args = parser.parse_args(argv)
    try:
        summary = make_video(args.out, args.scenes, args.crf, args.font_dir, args.max_bytes)
    except (BuildError, _scenes.SceneError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    size = int(summary["bytes"])  # type: ignore[call-overload]
    print(f"wrote {args.out}")
    print(f"  size      {size} bytes ({size / 1_000_000:.2f} MB)")
    print(f"  duration  {summary['duration_s']:.3f} s")
    for key in ("codec", "size", "fps", "audio", "boxes", "sha256"):
        print(f"  {key:<9} {summary[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
