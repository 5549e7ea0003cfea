"""What a notebook's first import costs: each notebook is a fresh kernel.

Setting up (01) and provisioning review (03) import ``runs``, ``media``, ``state``, ``cors``,
``exercises``, ``names``, ``preview`` and ``provision`` only; those must not drag in pandas,
numpy or Liquid, which the steps that need them import when they run.
No notebook needs a plotting library.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "liquid", "matplotlib")


def loaded_after(statement: str) -> set[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in json.loads(out.stdout)}


def test_setting_up_and_provisioning_load_nothing_heavy():
    loaded = loaded_after(
        "from helpers import cors, exercises, media, names, preview, provision, runs, state"
    )
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize("module", ["plots", "tuner", "moderation", "loops", "cleanup"])
def test_no_helper_loads_a_plotting_library(module):
    assert "matplotlib" not in loaded_after(f"from helpers import runs, {module}")
