"""A temporary database on the benchmark's PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import subjects

POSTGRES = os.environ.get(
    "MUSICREC_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """A fresh database on the benchmark's PostgreSQL server, dropped afterwards."""
    admin = create_engine(subjects.normalise_url(POSTGRES), isolation_level="AUTOCOMMIT")
    name = f"musicrec_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(subjects.normalise_url(POSTGRES)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def server_version() -> str:
    admin = create_engine(subjects.normalise_url(POSTGRES))
    try:
        with admin.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar())
    finally:
        admin.dispose()
