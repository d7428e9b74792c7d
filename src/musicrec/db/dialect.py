"""The INSERT construct of the session's database, for ON CONFLICT upserts (both have one)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """``INSERT INTO table`` with PostgreSQL's or SQLite's ``on_conflict_do_*`` methods."""
    return dialect_insert(dialect_name(session), table)


def dialect_name(session: Session) -> str:
    """The dialect of the database the session talks to: "postgresql" or "sqlite"."""
    return session.get_bind().dialect.name


def dialect_insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """``upsert_insert`` for a database named by its dialect (for statements built once)."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
