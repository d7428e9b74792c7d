"""The engine's own shape: its modules import each other in one direction only."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import musicrec.engine

ENGINE = Path(musicrec.engine.__file__).parent
PREFIX = "musicrec.engine"


def _engine_imports(node: ast.AST) -> set[str]:
    """Engine modules imported anywhere under ``node`` (``from musicrec.engine import x`` too)."""
    found: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.ImportFrom) and child.module:
            if child.module == PREFIX:
                found.update(alias.name for alias in child.names)
            elif child.module.startswith(PREFIX + "."):
                found.add(child.module.split(".")[2])
        elif isinstance(child, ast.Import):
            found.update(
                a.name.split(".")[2] for a in child.names if a.name.startswith(PREFIX + ".")
            )
    return found


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text()) for path in ENGINE.glob("*.py")}


def test_engine_modules_import_each_other_without_a_cycle() -> None:
    graph = {name: _engine_imports(tree) for name, tree in _modules().items()}
    assert graph["explicit_als"] and graph["als"]  # the scan sees imports at all
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"import cycle in the engine: {error.args[1]}") from None
    assert order.index("settings") < order.index("als")


def test_no_engine_module_imports_another_inside_a_function() -> None:
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert not _engine_imports(node), f"{name}.{node.name} imports an engine module"
