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
