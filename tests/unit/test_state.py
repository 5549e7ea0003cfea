"""The run's state file: locked, atomic writes; every way it can break gives a named error."""

import errno
import json
import multiprocessing
import os

import pytest

from helpers import state
from helpers.errors import InputError, KitError, StateCorrupt, StateMissing, StateUnusable

WRITERS, KEYS_EACH = 4, 25


@pytest.fixture
def path(tmp_path, monkeypatch):
    p = tmp_path / ".kit" / "run.json"
    monkeypatch.setenv("VMK_STATE_FILE", str(p))
    return p


def _writer(path: str, who: int, go) -> None:
    os.environ["VMK_STATE_FILE"] = path
    go.wait()
    for i in range(KEYS_EACH):
        state.record(f"k{who}-{i}", {"writer": who, "i": i})
        state.update(lambda s, entry=f"{who}-{i}": s.setdefault("log", []).append(entry))


def test_concurrent_writers_in_separate_processes_lose_nothing(path):
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(path), w, go)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    data = json.loads(path.read_text())  # parseable: never torn
    keys = {f"k{w}-{i}" for w in range(WRITERS) for i in range(KEYS_EACH)}
    assert keys <= set(data), f"lost keys: {sorted(keys - set(data))[:5]}"
    everyone = sorted(f"{w}-{i}" for w in range(WRITERS) for i in range(KEYS_EACH))
    assert sorted(data["log"]) == everyone
    leftovers = [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


def test_record_load_require_forget(path):
    assert state.load() == {}
    state.record("session", {"run_id": "abcd1"})
    assert state.require("session") == {"run_id": "abcd1"}
    with pytest.raises(StateMissing, match="02_moderate_video"):
        state.require("moderation")
    state.forget()
    assert not path.exists()
    state.forget()  # twice is fine


def test_missing_state_names_the_folder_it_looked_in(path):
    with pytest.raises(StateMissing) as err:
        state.require("session")
    assert str(path) in err.value.what and "01_setup" in err.value.fix


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"a": 1', b"[1, 2]", b'{"a": NaN}', b"\xff\xfe\x00garbage", b""],
    ids=["syntax", "truncated", "not-an-object", "nan", "not-utf8", "empty"],
)
def test_corrupt_file_is_named_with_path_and_fix(path, content, reliability):
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    for call in (state.load, lambda: state.require("session"), lambda: state.record("x", 1)):
        with pytest.raises(StateCorrupt) as err:
            call()
        assert str(path) in str(err.value) and "mv " in err.value.fix
    assert path.read_bytes() == content, "a corrupt file is left as it was, for inspection"
    reliability["state faults named"] += 1


def test_state_path_that_is_a_folder(path, reliability):
    path.mkdir(parents=True)
    for call in (state.load, lambda: state.record("x", 1), state.forget):
        with pytest.raises(StateUnusable, match="is a folder") as err:
            call()
        assert "VMK_STATE_FILE" in err.value.fix
    reliability["state faults named"] += 1


def test_state_path_under_a_file(tmp_path, monkeypatch, reliability):
    (tmp_path / ".kit").write_text("a file where the folder should be")
    monkeypatch.setenv("VMK_STATE_FILE", str(tmp_path / ".kit" / "run.json"))
    for call in (state.load, lambda: state.record("x", 1)):
        with pytest.raises(StateUnusable, match="is a file, not a folder"):
            call()
    reliability["state faults named"] += 1


def test_nan_is_not_recorded(path):
    state.record("ok", 1)
    with pytest.raises(InputError, match="NaN"):
        state.record("bad", float("nan"))
    assert state.load() == {"ok": 1}


def test_every_state_error_is_a_kit_error():
    for cls in (StateCorrupt, StateMissing, StateUnusable):
        assert issubclass(cls, KitError)


@pytest.mark.parametrize(
    "error, said, fix",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "No space left", "disk"),
        (PermissionError(errno.EACCES, "Permission denied"), "may not write", "chmod"),
    ],
    ids=["disk-full", "permission"],
)
def test_failed_write_keeps_the_old_file(path, monkeypatch, reliability, error, said, fix):
    state.record("session", {"run_id": "abcd1"})

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(state.os, "replace", fail)
    with pytest.raises(StateUnusable, match=said) as err:
        state.record("video", {})
    assert fix in err.value.fix and str(path) in err.value.what
    assert state.load() == {"session": {"run_id": "abcd1"}}
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []
    reliability["state faults named"] += 1


@pytest.mark.parametrize(
    ("key", "notebook"),
    [
        ("review", "04_review_with_human_loop"),
        ("rules", "04_review_with_human_loop"),
        ("results", "05_read_results"),
        ("many_review", "06_many_videos"),
        ("exported", "09_clean_up"),
        ("cleanup", "09_clean_up"),
    ],
)
def test_a_missing_key_names_the_notebook_that_records_it(path, key, notebook):
    state.record("session", {"run_id": "r1"})
    with pytest.raises(StateMissing, match=notebook):
        state.require(key)
    assert "human_loops" not in state.RECORDED_BY, "no notebook records it any more"


def test_every_key_the_notebooks_record_is_known():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "notebooks"
    text = "".join(p.read_text() for p in sorted(root.glob("0*.ipynb")))
    recorded = set(re.findall(r'state\.record\(\\"(\w+)\\"', text))
    assert recorded and recorded <= set(state.RECORDED_BY), recorded - set(state.RECORDED_BY)
