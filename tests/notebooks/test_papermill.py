"""papermill runs the notebooks: parameters injected the papermill way, only where declared;
papermill's metadata in the executed notebooks; the kit's engine ``vmk`` registered with papermill
and usable from its command line. Small notebooks of the tests' own, never the lab's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import demo, runner
from helpers.offline import OfflineSettings


def notebook(path: Path, parameters: str | None, *sources: str) -> Path:
    """A notebook with a cell tagged ``parameters`` (when given) and then ``sources``."""
    book = nbformat.v4.new_notebook()
    book.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    cells = []
    if parameters is not None:
        cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    book.cells = cells
    nbformat.write(book, path)
    return path


def stdout(book: dict) -> str:
    return "".join("".join(o.get("text", "")) for c in book["cells"] for o in c.get("outputs", []))


def injected(book: dict) -> list[str]:
    """The sources of the cells papermill injected."""
    return [
        "".join(c["source"])
        for c in book["cells"]
        if "injected-parameters" in c["metadata"].get("tags", [])
    ]


def test_a_parameter_reaches_only_the_notebooks_that_declare_it(tmp_path):
    paths = [
        notebook(tmp_path / "a.ipynb", "rules = 'default'\nmin_confidence = 50", "print(rules)"),
        notebook(tmp_path / "b.ipynb", "min_confidence = 50", "print(min_confidence)"),
        notebook(tmp_path / "c.ipynb", None, "print('no parameters cell')"),
    ]
    given = {"rules": "broadcast-standard", "min_confidence": 60}
    outcomes = runner.run(paths, tmp_path / "out", parameters=given)
    assert [o.failure for o in outcomes] == [None, None, None]
    assert [o.parameters for o in outcomes] == [given, {"min_confidence": 60}, {}]
    a, b, c = (json.loads((tmp_path / "out" / p.name).read_text()) for p in paths)
    assert stdout(a) == "broadcast-standard\n" and stdout(b) == "60\n"
    # papermill's injected cell, right after the parameters cell
    assert a["cells"][1]["metadata"]["tags"] == ["injected-parameters"]
    assert injected(b) == ["# Parameters\nmin_confidence = 60\n"]
    assert injected(c) == []
    assert a["metadata"]["papermill"]["parameters"] == given
    assert b["metadata"]["papermill"]["parameters"] == {"min_confidence": 60}


def test_executed_notebooks_carry_papermills_metadata(tmp_path):
    path = notebook(tmp_path / "a.ipynb", "x = 1", "print(x)", "raise ValueError('no bucket')")
    (outcome,) = runner.run([path], tmp_path / "out")
    assert outcome.failure == "ValueError: no bucket"
    book = json.loads(outcome.target.read_text())
    meta = book["metadata"]["papermill"]
    assert meta["input_path"] == str(path) and meta["output_path"] == str(outcome.target)
    assert meta["exception"] is True and meta["duration"] > 0 and meta["version"]
    statuses = [
        c["metadata"]["papermill"]["status"]
        for c in book["cells"]
        if "papermill" in c.get("metadata", {})
    ]
    assert statuses == ["completed", "completed", "failed"]
    # papermill marks where it failed, in a cell of its own, and keeps the output before it
    assert any("papermill-error-cell-tag" in c["metadata"].get("tags", []) for c in book["cells"])
    assert stdout(book) == "1\n"


def test_the_executed_notebook_is_written_once_when_it_ends(tmp_path):
    target = tmp_path / "out" / "a.ipynb"
    path = notebook(
        tmp_path / "a.ipynb", None, f"import os\nprint(os.path.exists({str(target)!r}))"
    )
    (outcome,) = runner.run([path], tmp_path / "out")
    assert outcome.failure is None
    assert stdout(json.loads(target.read_text())) == "False\n", "not written while it ran"


def test_the_next_kernel_starts_while_the_notebook_before_it_runs(tmp_path):
    started = (
        "import os\n"
        "ticks = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19])\n"
        "boot = next(int(l.split()[1]) for l in open('/proc/stat') if l.startswith('btime'))\n"
        "print(boot + ticks / os.sysconf('SC_CLK_TCK'))"
    )
    paths = [
        notebook(tmp_path / "a.ipynb", None, "import time\ntime.sleep(2)\nprint(time.time())"),
        notebook(tmp_path / "b.ipynb", None, started),
    ]
    outcomes = runner.run(paths, tmp_path / "out")
    assert [o.failure for o in outcomes] == [None, None]
    a_ended, b_started = (float(stdout(json.loads(o.target.read_text()))) for o in outcomes)
    assert b_started < a_ended - 1, "b's kernel was started while a ran"


def test_demo_solves_the_exercises_where_a_notebook_declares_them(tmp_path):
    paths = [
        notebook(tmp_path / "a.ipynb", "solve_exercises = False", "print(solve_exercises)"),
        notebook(tmp_path / "b.ipynb", "rules = 'default'", "print(rules)"),
    ]
    _, problems, _, _ = demo.execute(paths, tmp_path / "out", OfflineSettings.instant(), quiet=True)
    assert problems == []
    a, b = (json.loads((tmp_path / "out" / p.name).read_text()) for p in paths)
    assert stdout(a) == "True\n" and a["metadata"]["papermill"]["parameters"] == {
        "solve_exercises": True
    }
    assert stdout(b) == "default\n" and injected(b) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("True", True),
        ("False", False),
        ("None", None),
        ("60", 60),
        ("-3", -3),
        ("0.5", 0.5),
        ("1e3", 1000.0),
        ("broadcast-standard", "broadcast-standard"),
        ("true", "true"),
    ],
)
def test_parameter_values_read_as_papermills_command_line_reads_them(text, value):
    got = demo.parameter_value(text)
    assert got == value and type(got) is type(value)


def test_a_parameter_no_notebook_declares_is_refused_before_anything_runs(tmp_path, capsys):
    paths = [notebook(tmp_path / "a.ipynb", "rules = 'default'", "1")]
    assert demo.unknown_parameters(paths, {"rules": "x"}) == []
    (line,) = demo.unknown_parameters(paths, {"ruels": "x"})
    assert "`ruels` is declared by no notebook" in line and "rules" in line
    assert demo.main(["--out", str(tmp_path / "out"), "-p", "no_such_parameter", "1"]) == 2
    assert "no_such_parameter" in capsys.readouterr().out
    assert not (tmp_path / "out").exists(), "nothing ran"


def test_papermill_finds_the_kits_engine_and_its_command_line_runs_it(tmp_path):
    """The ``papermill.engine`` entry point, as a fresh process with papermill's CLI sees it."""
    from papermill.engines import papermill_engines

    assert papermill_engines.get_engine(runner.ENGINE) is runner.KitEngine
    path = notebook(tmp_path / "a.ipynb", "min_confidence = 50", "print(min_confidence + 1)")
    papermill = Path(sys.executable).with_name("papermill")
    command = [str(papermill), "--engine", "vmk", "--no-progress-bar"]
    command += [str(path), str(tmp_path / "o.ipynb"), "-p", "min_confidence", "60"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    book = json.loads((tmp_path / "o.ipynb").read_text())
    assert stdout(book) == "61\n" and book["metadata"]["papermill"]["parameters"] == {
        "min_confidence": 60
    }


def test_make_demo_params_reach_the_run_parsed_as_papermill_parses_them(monkeypatch):
    seen = {}
    monkeypatch.setattr(demo, "run", lambda *args: seen.setdefault("parameters", args[3]) and 0)
    argv = ["-p", "rules", "broadcast-standard", "-p", "min_confidence", "60"]
    demo.main([*argv, "-p", "solve_exercises", "False", "-r", "video_title", "2024"])
    assert seen["parameters"] == {
        "rules": "broadcast-standard",
        "min_confidence": 60,
        "solve_exercises": False,
        "video_title": "2024",
    }
