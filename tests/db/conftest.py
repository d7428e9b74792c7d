"""Fixtures for the query functions: a session on each kind of database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session on an empty migrated database; what a test leaves uncommitted is rolled back."""
    with Session(db_engine, expire_on_commit=False) as opened:
        yield opened
