"""The stand-in's modules import in one direction: services over shared state, the portal on top.

Every import between ``helpers.offline`` modules counts, at module level or inside a function,
so a cycle cannot hide in a deferred import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import helpers.offline

PACKAGE = Path(helpers.offline.__file__).parent
PREFIX = "helpers.offline"
#: Lower layers first; a module may import only modules of its own layer or below.
LAYERS = [
    {"exceptions", "locks", "paging", "moto_compat", "recordings", "synthetic", "pages", "guard"},
    {"settings", "faults", "validation", "identity", "reviewer", "s3", "truth", "control"},
    {"sagemaker", "rekognition"},
    {"a2i_runtime", "render"},
    {"portal"},
    {"registration", "inprocess", "server"},
    {"__init__", "__main__"},
]


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PREFIX:
                found |= {alias.name for alias in node.names}
            elif node.module.startswith(PREFIX + "."):
                found.add(node.module[len(PREFIX) + 1 :].split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PREFIX + "."):
                    found.add(alias.name[len(PREFIX) + 1 :].split(".")[0])
    return found - {path.stem}


def graph() -> dict[str, set[str]]:
    modules = {path.stem: path for path in PACKAGE.glob("*.py")}
    return {name: imports_of(path) & set(modules) for name, path in modules.items()}


def test_every_module_has_a_layer():
    placed = set().union(*LAYERS)
    assert set(graph()) - placed == set()


def test_imports_go_down_the_layers_only():
    level = {name: index for index, layer in enumerate(LAYERS) for name in layer}
    upward = [
        f"{module} → {target}"
        for module, targets in graph().items()
        for target in targets
        if level.get(target, 99) > level.get(module, -1)
    ]
    assert upward == []


def test_no_import_cycle():
    edges = graph()
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycles.append(" → ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert cycles == []
