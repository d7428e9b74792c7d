"""Write one benchmark's section into docs/benchmarks.md, keeping the other sections."""

from __future__ import annotations

import os
import platform
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from musicrec.db.session import normalise_url

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
TITLE = (
    "# Benchmarks\n\nWritten by `make bench`; each section is replaced when its benchmark runs.\n"
)


POSTGRES = os.environ.get(
    "MUSICREC_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """A fresh database on the benchmark's PostgreSQL server, dropped afterwards."""
    admin = create_engine(normalise_url(POSTGRES), isolation_level="AUTOCOMMIT")
    name = f"musicrec_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(POSTGRES)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(heading: str, body: str) -> None:
    """Replace the ``## heading`` section of the report (or append it) with ``body``."""
    text = REPORT.read_text() if REPORT.exists() else TITLE
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"## {heading}\n\nMeasured {stamp} on {machine()}.\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _match: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text)
