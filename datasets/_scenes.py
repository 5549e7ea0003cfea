"""Load and check ``datasets/sample_scenes.json``, the one scene list both generators read.

``make_sample_video.py`` draws the scenes (captions, colours, cues) and ``make_recording.py``
turns their labels into a synthetic GetContentModeration response. Keeping both on one file
keeps the captions, the on-screen cues and the recorded detections in step.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENES_FILE = HERE / "sample_scenes.json"
SCHEMA = "vmk-scenes/1"

try:  # the kit's package, installed with `pip install -e .`
    from helpers import taxonomy
except ModuleNotFoundError:  # running from a plain checkout
    sys.path.insert(0, str(ROOT))
    from helpers import taxonomy

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: Backgrounds that are lavfi sources rather than colours.
PATTERN_BACKGROUNDS = ("testsrc2",)


class SceneError(ValueError):
    """The scene file is malformed; the message says which scene and field."""


@dataclass(frozen=True)
class LabelSpec:
    """One label a scene shows, with the confidence profile its detections follow."""

    name: str
    level: int
    on: tuple[tuple[float, float], ...]
    peak: float
    floor: float
    noise: float = 2.0
    dropout: float = 0.05
    cue: str = ""

    @property
    def parent(self) -> str:
        return taxonomy.parent(self.name, self.level)

    @property
    def category(self) -> str:
        return taxonomy.top_level(self.name, self.level)


@dataclass(frozen=True)
class Scene:
    id: str
    start_s: float
    end_s: float
    caption: str
    background: str
    accent: str
    labels: tuple[LabelSpec, ...]


@dataclass(frozen=True)
class RecordingParams:
    seed: int
    min_gap_ms: int
    max_gap_ms: int
    report_min: float
    fade_s: float


@dataclass(frozen=True)
class SceneList:
    title: str
    fps: int
    width: int
    height: int
    duration_s: float
    recording: RecordingParams
    scenes: tuple[Scene, ...]


def _label(raw: dict, scene: dict, where: str) -> LabelSpec:
    name = raw.get("name")
    if not isinstance(name, str) or not taxonomy.is_known(name):
        raise SceneError(f"{where}: {taxonomy.unknown_message([str(name)])}")
    lvl = int(raw.get("level", taxonomy.level(name)))
    try:
        taxonomy.parent(name, lvl)
    except KeyError:
        raise SceneError(f"{where}: {name!r} is not a level-{lvl} label in taxonomy v7") from None
    on = tuple((float(a), float(b)) for a, b in raw.get("on", [[scene["start_s"], scene["end_s"]]]))
    for a, b in on:
        if not (scene["start_s"] <= a < b <= scene["end_s"]):
            raise SceneError(f"{where}: interval [{a}, {b}] is not inside the scene")
    spec = LabelSpec(
        name=name,
        level=lvl,
        on=on,
        peak=float(raw["peak"]),
        floor=float(raw["floor"]),
        noise=float(raw.get("noise", 2.0)),
        dropout=float(raw.get("dropout", 0.05)),
        cue=str(raw.get("cue", "")),
    )
    if not (0 < spec.floor < spec.peak <= 100):
        raise SceneError(f"{where}: need 0 < floor < peak <= 100")
    if not (0 <= spec.dropout < 1) or spec.noise < 0:
        raise SceneError(f"{where}: need 0 <= dropout < 1 and noise >= 0")
    return spec


def load(path: Path | str = SCENES_FILE) -> SceneList:
    """Read and validate the scene file; raise :class:`SceneError` naming what is wrong."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != SCHEMA:
        raise SceneError(f"{path}: expected schema {SCHEMA!r}, got {data.get('schema')!r}")
    rec = data["recording"]
    params = RecordingParams(
        seed=int(rec["seed"]),
        min_gap_ms=int(rec["min_gap_ms"]),
        max_gap_ms=int(rec["max_gap_ms"]),
        report_min=float(rec["report_min"]),
        fade_s=float(rec["fade_s"]),
    )
    if not (0 < params.min_gap_ms < params.max_gap_ms < 1000):
        raise SceneError("recording: need 0 < min_gap_ms < max_gap_ms < 1000 (sub-second)")
    scenes: list[Scene] = []
    previous_end = 0.0
    for i, raw in enumerate(data["scenes"], start=1):
        where = f"{path.name}: scene {i} ({raw.get('id', '?')})"
        if float(raw["start_s"]) != previous_end:
            raise SceneError(f"{where}: starts at {raw['start_s']}, expected {previous_end}")
        if float(raw["end_s"]) <= float(raw["start_s"]):
            raise SceneError(f"{where}: ends before it starts")
        if not raw["caption"].startswith(f"Scene {i} "):
            raise SceneError(f"{where}: caption should start with 'Scene {i} '")
        for key in ("background", "accent"):
            value = raw[key]
            if not _COLOUR.match(value) and not (
                key == "background" and value in PATTERN_BACKGROUNDS
            ):
                raise SceneError(f"{where}: {key} {value!r} is not #RRGGBB")
        labels = tuple(
            _label(lab, raw, f"{where}, label {j}") for j, lab in enumerate(raw["labels"], 1)
        )
        for lab in labels:
            chain = taxonomy.ancestors(lab.name, lab.level)
            above = {(name, lab.level - k) for k, name in enumerate(chain, start=1)}
            for other in labels:
                if (other.name, other.level) in above:
                    raise SceneError(
                        f"{where}: list {lab.name!r} only; its parent {other.name!r} is added "
                        "by make_recording.py"
                    )
        scenes.append(
            Scene(
                id=raw["id"],
                start_s=float(raw["start_s"]),
                end_s=float(raw["end_s"]),
                caption=raw["caption"],
                background=raw["background"],
                accent=raw["accent"],
                labels=labels,
            )
        )
        previous_end = float(raw["end_s"])
    duration = float(data["duration_s"])
    if previous_end != duration:
        raise SceneError(f"{path.name}: scenes end at {previous_end}, duration_s is {duration}")
    return SceneList(
        title=data["title"],
        fps=int(data["fps"]),
        width=int(data["width"]),
        height=int(data["height"]),
        duration_s=duration,
        recording=params,
        scenes=tuple(scenes),
    )
