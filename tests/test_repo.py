"""Repository hygiene: notebooks clean and well-formed, README in step with them."""

import json
import re
from pathlib import Path

import pytest

from helpers import hygiene

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_numbered_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 6
    assert all(re.match(r"^\d\d_[a-z0-9_]+\.ipynb$", n) for n in names), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_well_formed(path):
    book = json.loads(path.read_text())
    code = [c for c in book["cells"] if c["cell_type"] == "code"]
    fix = "strip it with `make format` or Jupyter's Clear All Outputs, then save"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
        f"{path.name} is saved with outputs: {fix}"
    )
    assert book["metadata"]["kernelspec"]["name"] == "python3"
    assert book["metadata"].get("language_info", {}).get("name") == "python"
    tagged = [c for c in book["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged parameters"
    # every code cell has prose before it
    for before, cell in zip(book["cells"], book["cells"][1:], strict=False):
        if cell["cell_type"] == "code":
            assert before["cell_type"] == "markdown", f"{path.name}: code cell without prose"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_offline_branch_and_no_account_data(path):
    text = path.read_text()
    assert hygiene.problems(path) == []
    for word in ("offline", "moto", "AWS_ENDPOINT_URL", "localhost", "127.0.0.1"):
        sources = "".join(
            "".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code"
        )
        assert word not in sources, f"{path.name} code mentions {word!r}"


def test_readme_lists_every_notebook_and_both_commands():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert path.name in readme, f"README does not list {path.name}"
    assert "make demo" in readme and "make test" in readme


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_hygiene_catches_outputs_and_secrets(tmp_path):
    book = {
        "cells": [
            {
                "cell_type": "code",
                "source": "x",
                "outputs": [{"text": "arn:aws:iam::123456789012:role/R ASIAABCDEFGHIJKLMNOP"}],
                "execution_count": 1,
            }
        ]
    }
    path = tmp_path / "dirty.ipynb"
    path.write_text(json.dumps(book))
    found = "\n".join(hygiene.problems(path))
    for what in ("outputs", "account id", "ARN", "access key id"):
        assert what in found
    assert hygiene.main([str(path)]) == 1


def test_pre_commit_runs_the_hygiene_check():
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    assert "helpers.hygiene" in config


#: The AWS requests the lab teaches, each in a notebook's code cell with its real parameters.
TAUGHT = (
    "start_content_moderation(",
    "get_content_moderation(",
    "create_human_task_ui",
    "create_flow_definition",
    "start_human_loop(",
    "describe_human_loop(",
    "s3.get_object(",
)


def _code_cells(path):
    book = json.loads(path.read_text())
    return ["".join(c["source"]) for c in book["cells"] if c["cell_type"] == "code"]


def test_notebooks_show_every_request_the_lab_teaches_in_short_cells():
    cells = [cell for path in NOTEBOOKS for cell in _code_cells(path)]
    for call in TAUGHT:
        assert any(call in cell for cell in cells), f"no code cell shows {call}"
    lengths = [len(cell.splitlines()) for cell in cells]
    assert max(lengths) <= 20, "no code cell over 20 lines"
    assert sum(n <= 12 for n in lengths) >= 0.8 * len(lengths), "most cells at most 12 lines"


@pytest.mark.parametrize("path", NOTEBOOKS[1:5], ids=lambda p: p.name)
def test_exercise_notebooks_take_solve_exercises(path):
    book = json.loads(path.read_text())
    params = [c for c in book["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert "solve_exercises = False" in "".join(params[0]["source"])
    assert any("exercises.check_" in cell for cell in _code_cells(path))


def test_no_helper_does_every_step():
    assert not (ROOT / "helpers" / "lab.py").exists(), "the notebooks show the calls themselves"
