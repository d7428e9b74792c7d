"""Fixtures for the services: a session on each kind of database, a seeded generator, the
search index cache's clock."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from musicrec.services import search


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session on an empty migrated database; what a test leaves uncommitted is rolled back."""
    with Session(db_engine, expire_on_commit=False) as opened:
        yield opened


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


class SearchClock:
    """The search index cache's clock (``time.monotonic`` there), moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SearchClock:
    fake = SearchClock(1000.0)
    monkeypatch.setattr(search.time, "monotonic", fake)
    return fake
