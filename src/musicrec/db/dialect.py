"""The INSERT construct of the session's database, for ON CONFLICT upserts (both have one)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """``INSERT INTO table`` with PostgreSQL's or SQLite's ``on_conflict_do_*`` methods."""
    name = session.get_bind().dialect.name
    return postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)
