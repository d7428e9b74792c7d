"""import-postgresql and import-sqlite: the Last.fm starter data into an empty database.

Ours: staging tables filled in bulk (COPY / executemany) merged by set-based upserts, users,
artists and ratings in one transaction (``first``), then the same import again with nothing
changed (``again``). Reference: what a straightforward implementation does, one INSERT
statement per rating row (ratings alone). Each run uses a fresh database.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import numpy as np
from sqlalchemy import insert, select, text

import postgres
import sources
import subjects
from measure import summary


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def row_by_row_ratings(engine, data, rows: int) -> None:  # type: ignore[no-untyped-def]
    """The reference: one INSERT per rating (the first ``rows``), ids looked up in
    dictionaries first."""
    user_index = np.unique(data.user_ids, return_inverse=True)[1]
    ratings = subjects.ratings_from_listens(user_index, data.listens)
    with engine.begin() as connection:
        users = dict(connection.execute(select(subjects.User.lastfm_id, subjects.User.id)).all())
        artists = dict(
            connection.execute(select(subjects.Artist.lastfm_id, subjects.Artist.id)).all()
        )
        connection.execute(text("DELETE FROM ratings"))
        for user, artist, rating, listens in zip(
            data.user_ids[:rows].tolist(),
            data.item_ids[:rows].tolist(),
            ratings[:rows].tolist(),
            data.listens[:rows].tolist(),
            strict=True,
        ):
            connection.execute(
                insert(subjects.Rating).values(
                    user_id=users[user],
                    artist_id=artists[artist],
                    rating=int(rating),
                    source="lastfm",
                    listens=listens,
                )
            )


def measure_once(url: str, data, reference_rows: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Ours twice; then the reference, on ``reference_rows`` ratings (0: none) scaled to all."""
    engine = subjects.make_engine(url)
    try:
        subjects.migrate.upgrade(engine)
        first = timed(lambda: subjects.import_listening_data(engine, data, location="bench"))
        again = timed(lambda: subjects.import_listening_data(engine, data, location="bench"))
        figures = {"first": first, "again": again}
        if reference_rows:
            seconds = timed(lambda: row_by_row_ratings(engine, data, reference_rows))
            figures["reference"] = seconds * data.listens.size / reference_rows
    finally:
        engine.dispose()
    return figures


@contextmanager
def temporary_sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.sqlite3"


QUICK_REFERENCE_ROWS = 10_000
DATABASES: dict[str, Callable[[], AbstractContextManager[str]]] = {
    "import-postgresql": postgres.temporary_postgres_database,
    "import-sqlite": temporary_sqlite_database,
}


def import_cases(quick: bool) -> list[dict]:
    """Ours: 3 runs (quick: 1). The reference takes 10-80 s a run: once on every rating
    (quick: on the first 10,000, scaled to all)."""
    data = subjects.load_lastfm(sources.SHARED)
    runs = 1 if quick else 3
    reference_rows = min(QUICK_REFERENCE_ROWS, data.listens.size) if quick else data.listens.size
    entries = []
    for case, database in DATABASES.items():
        figures = []
        for run in range(runs):
            with database() as url:
                figures.append(measure_once(url, data, reference_rows if run == 0 else 0))
        project = {
            "label": "musicrec import (bulk staging + upserts): users, artists, ratings",
            **summary([f["first"] for f in figures]),
            "again_median_s": statistics.median(f["again"] for f in figures),
        }
        reference = {
            "label": "one INSERT per rating row (ratings alone)",
            **summary([f["reference"] for f in figures if "reference" in f]),
        }
        if reference_rows < data.listens.size:
            reference["label"] += f", timed on the first {reference_rows:,} and scaled to all"
        entries.append(
            {
                "case": case,
                "project": project,
                "reference": reference,
                "ratio": reference["median_s"] / project["median_s"],
            }
        )
    return entries
