"""The layers stay as docs/architecture.md draws them: the import-linter contracts hold."""

from __future__ import annotations

import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)  # the contracts live in pyproject.toml
    assert os.path.exists("pyproject.toml")
    assert lint_imports(no_cache=True) == 0


PACKAGE = ROOT / "src" / "musicrec"
# The same concept at two layers: db/ratings.py queries the rows that services/ratings.py uses.
LAYERED_MODULES = {"__init__.py", "ratings.py"}


def test_no_two_modules_share_a_name() -> None:
    seen: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" not in path.parts:
            seen.setdefault(path.name, []).append(str(path.relative_to(PACKAGE)))
    shared = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert set(shared) <= LAYERED_MODULES, shared


def test_no_two_classes_share_a_name() -> None:
    seen: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("class "):
                name = line[len("class ") :].split("(")[0].split(":")[0].strip()
                seen.setdefault(name, []).append(str(path.relative_to(PACKAGE)))
    shared = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not shared, shared
