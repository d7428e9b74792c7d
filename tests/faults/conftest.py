"""Fixtures of the fault suite: the web suite's small catalogue (for apps built per test)."""

from __future__ import annotations

from tests.web.conftest import catalogue

__all__ = ["catalogue"]
