"""What one notebook leaves for the next: a small JSON file of the run's settings and ids.

Each notebook runs in its own kernel, so the run id, the bucket, the moderation job id and the
A2I resource names travel in ``.kit/run.json`` (override with ``VMK_STATE_FILE``). Nothing in it
is secret: ids and names only. Clean up deletes it last.

Several kernels may write it at once (two notebooks open, a notebook and ``make lab``): every
change is a read-modify-write under an exclusive lock (``run.json.lock`` beside it), written to
a temporary file of its own and renamed over the old one, so no key is lost and no reader ever
sees a torn file. A file that cannot be read, parsed or written gives a :class:`StateCorrupt`
or :class:`StateUnusable` naming the path and the fix, never a raw ``OSError``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from helpers.errors import InputError, StateCorrupt, StateMissing, StateUnusable

__all__ = [
    "DEFAULT_PATH",
    "RECORDED_BY",
    "StateCorrupt",
    "StateMissing",
    "StateUnusable",
    "forget",
    "load",
    "record",
    "require",
    "state_path",
    "update",
]

DEFAULT_PATH = Path(".kit") / "run.json"

# Which notebook records which key, for the error a later notebook raises when it is missing.
RECORDED_BY = {
    "session": "01_setup.ipynb",
    "video": "01_setup.ipynb",
    "moderation": "02_moderate_video.ipynb",
    "workteam": "03_set_up_human_review.ipynb",
    "task_ui": "03_set_up_human_review.ipynb",
    "review_setup": "03_set_up_human_review.ipynb",
    "rules": "04_review_with_human_loop.ipynb",
    "review": "04_review_with_human_loop.ipynb",
    "results": "05_read_results.ipynb",  # 06_many_videos.ipynb adds its loops' counts too
    "many_review": "06_many_videos.ipynb",
    "learning": "08_learn_from_reviews.ipynb",
    "exported": "09_clean_up.ipynb",
    "cleanup": "09_clean_up.ipynb",
}


def state_path() -> Path:
    """Where the run's state lives."""
    return Path(os.environ.get("VMK_STATE_FILE", DEFAULT_PATH))


def _where(path: Path) -> str:
    """The path as a person can find it: absolute, and relative to where the kernel runs."""
    return f"{path.absolute()}" if not path.is_absolute() else str(path)


def _unusable(path: Path, err: OSError, doing: str) -> StateUnusable:
    if isinstance(err, IsADirectoryError) or path.is_dir():
        return StateUnusable(
            f"The run's state file {_where(path)} is a folder, so the kit cannot {doing} it",
            f"remove or rename that folder, or set VMK_STATE_FILE to a file path such as "
            f"{DEFAULT_PATH}",
        )
    if isinstance(err, NotADirectoryError) or any(p.is_file() for p in path.absolute().parents):
        return StateUnusable(
            f"The run's state file {_where(path)} lies under a path that is a file, not a folder",
            "move that file aside, or set VMK_STATE_FILE to a path in a folder you can write",
        )
    if isinstance(err, PermissionError):
        return StateUnusable(
            f"The kit may not {doing} the run's state file {_where(path)} ({err.strerror})",
            "give yourself write access to that folder (chmod u+rw), or set VMK_STATE_FILE to a "
            "path in a folder you can write",
        )
    return StateUnusable(
        f"The kit cannot {doing} the run's state file {_where(path)} "
        f"({type(err).__name__}: {err.strerror or err})",
        "check the disk (space, permissions), or set VMK_STATE_FILE to a path you can write",
    )


def _parse(path: Path, text: str) -> dict[str, Any]:
    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        state = json.loads(text, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as err:
        raise StateCorrupt(
            f"The run's state file {_where(path)} is not valid JSON ({err})",
            f"it was damaged (edited by hand, or a disk filled up): move it aside "
            f"(mv {path} {path}.broken) and run 01_setup.ipynb again; `clean_up(all_runs=True)` "
            "still finds the old run's resources by name",
        ) from None
    if not isinstance(state, dict):
        raise StateCorrupt(
            f"The run's state file {_where(path)} holds a JSON {type(state).__name__}, "
            "not the object the kit writes",
            f"move it aside (mv {path} {path}.broken) and run 01_setup.ipynb again",
        )
    return state


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if path.parent.exists() and not path.parent.is_dir():
            raise _unusable(path, NotADirectoryError(), "read") from None
        return {}
    except OSError as err:
        raise _unusable(path, err, "read") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise StateCorrupt(
            f"The run's state file {_where(path)} is not UTF-8 text ({err.reason})",
            f"move it aside (mv {path} {path}.broken) and run 01_setup.ipynb again",
        ) from None
    return _parse(path, text)


def load() -> dict[str, Any]:
    """The run's state, or an empty dict when no notebook has recorded anything yet."""
    return _read(state_path())


def require(key: str) -> Any:
    """The recorded value of ``key``; raises :class:`StateMissing` naming the notebook to run."""
    path = state_path()
    state = _read(path)
    if key not in state:
        notebook = RECORDED_BY.get(key, "the earlier notebooks")
        where = (
            f"{path}"
            if state
            else f"{path} (looked for in {Path.cwd()}; the notebooks share the state of the "
            "folder they run in)"
        )
        raise StateMissing(
            f"Nothing recorded for `{key}` in {where}",
            f"run {notebook} first (the notebooks build on each other, in order)",
        )
    return state[key]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<path>.lock`` for the time of one read-modify-write."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise _unusable(path, err, "write") from None
    try:
        try:
            import fcntl
        except ImportError:  # Windows: msvcrt locks one byte
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write(path: Path, state: dict[str, Any]) -> None:
    try:
        text = json.dumps(state, indent=2, sort_keys=True, default=str, allow_nan=False)
    except ValueError as err:
        raise InputError(
            f"Cannot record the run's state: {err} (NaN or Infinity is not JSON)",
            "record finite numbers (or None for a missing one)",
        ) from None
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as err:
        raise _unusable(path, err, "write") from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def update(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply ``change`` to the state in place, under the lock; return the new state.

    For changes that depend on what is recorded (add a loop to a list, merge counts), so that a
    write by another kernel between the read and the write is not lost.
    """
    path = state_path()
    with _locked(path):
        state = _read(path)
        change(state)
        _write(path, state)
    return state


def record(key: str, value: Any) -> None:
    """Record ``value`` under ``key`` (locked and atomic: other kernels' keys are kept)."""
    update(lambda state: state.__setitem__(key, value))


def forget() -> None:
    """Delete the state file (after clean up)."""
    path = state_path()
    with _locked(path):
        try:
            path.unlink(missing_ok=True)
        except OSError as err:
            raise _unusable(path, err, "delete") from None
