"""The layers stay as docs/architecture.md draws them: the import-linter contracts hold."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)  # the contracts live in pyproject.toml
    assert os.path.exists("pyproject.toml")
    # import-linter configures logging, disabling every logger that exists: re-enable ours so
    # later tests in this process still see the app's log records.
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    enabled = [logger for logger in loggers if not logger.disabled]
    try:
        assert lint_imports(no_cache=True) == 0
    finally:
        for logger in enabled:
            logger.disabled = False


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


def test_importing_the_engine_loads_neither_flask_nor_sqlalchemy() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, pkgutil, importlib, musicrec.engine as e\n"
        "for m in pkgutil.iter_modules(e.__path__):\n"
        "    importlib.import_module(f'musicrec.engine.{m.name}')\n"
        "print(sorted(n for n in ('flask', 'sqlalchemy') if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
