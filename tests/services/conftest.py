"""Fixtures for the services: a session on each kind of database, a seeded generator."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session on an empty migrated database; what a test leaves uncommitted is rolled back."""
    with Session(db_engine, expire_on_commit=False) as opened:
        yield opened


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)
