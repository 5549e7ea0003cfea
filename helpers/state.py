"""What one notebook leaves for the next: a small JSON file of the run's settings and ids.

Each notebook runs in its own kernel, so the run id, the bucket, the moderation job id and the
A2I resource names travel in ``.kit/run.json`` (override with ``VMK_STATE_FILE``). Nothing in it
is secret: ids and names only. Clean up deletes it last.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from helpers.errors import StateMissing

DEFAULT_PATH = Path(".kit") / "run.json"

# Which notebook records which key, for the error a later notebook raises when it is missing.
RECORDED_BY = {
    "session": "01_setup.ipynb",
    "video": "01_setup.ipynb",
    "moderation": "02_moderate_video.ipynb",
    "workteam": "03_set_up_human_review.ipynb",
    "task_ui": "03_set_up_human_review.ipynb",
    "review_setup": "03_set_up_human_review.ipynb",
    "human_loops": "04_review_with_human_loop.ipynb",
}


def state_path() -> Path:
    """Where the run's state lives."""
    return Path(os.environ.get("VMK_STATE_FILE", DEFAULT_PATH))


def load() -> dict[str, Any]:
    """The run's state, or an empty dict when no notebook has recorded anything yet."""
    path = state_path()
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def require(key: str) -> Any:
    """The recorded value of ``key``; raises :class:`StateMissing` naming the notebook to run."""
    state = load()
    if key not in state:
        notebook = RECORDED_BY.get(key, "the earlier notebooks")
        raise StateMissing(
            f"Nothing recorded for `{key}` in {state_path()}",
            f"run {notebook} first (the notebooks build on each other, in order)",
        )
    return state[key]


def record(key: str, value: Any) -> None:
    """Record ``value`` under ``key`` (atomically, so an interrupted cell leaves no torn file)."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = load()
    state[key] = value
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True, default=str))
    tmp.replace(path)


def forget() -> None:
    """Delete the state file (after clean up)."""
    state_path().unlink(missing_ok=True)
