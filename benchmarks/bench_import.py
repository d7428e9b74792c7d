"""Import the shared Last.fm data into SQLite and PostgreSQL; compare with row-by-row inserts.

Ours: staging tables filled in bulk (COPY / executemany) merged by set-based upserts.
Reference: what a straightforward implementation does, one INSERT statement per rating row.
Run: `.venv/bin/python benchmarks/bench_import.py` (STARTER_DATA and
MUSICREC_BENCH_POSTGRES_URL override the data folder and the PostgreSQL server).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import temporary_postgres_database, write_section  # noqa: E402

from musicrec.datasets import load_lastfm  # noqa: E402
from musicrec.db import migrate  # noqa: E402
from musicrec.db.models import Artist, Rating, User  # noqa: E402
from musicrec.db.session import make_engine  # noqa: E402
from musicrec.engine.mapping import listens_to_ratings  # noqa: E402
from musicrec.services.importing import import_listening_data  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("STARTER_DATA") or REPO.parent / "shared" / "data" / "lastfm-2k")


def timed(function) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def row_by_row_ratings(engine, data) -> None:  # type: ignore[no-untyped-def]
    """The reference: one INSERT per rating, ids looked up in dictionaries first."""
    user_index = np.unique(data.user_ids, return_inverse=True)[1]
    ratings = listens_to_ratings(user_index, data.listens)
    with engine.begin() as connection:
        users = dict(connection.execute(select(User.lastfm_id, User.id)).all())
        artists = dict(connection.execute(select(Artist.lastfm_id, Artist.id)).all())
        connection.execute(text("DELETE FROM ratings"))
        for user, artist, rating, listens in zip(
            data.user_ids.tolist(),
            data.item_ids.tolist(),
            ratings.tolist(),
            data.listens.tolist(),
            strict=True,
        ):
            connection.execute(
                insert(Rating).values(
                    user_id=users[user],
                    artist_id=artists[artist],
                    rating=rating,
                    source="lastfm",
                    listens=listens,
                )
            )


def measure(url: str, data) -> dict[str, float]:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    migrate.upgrade(engine)
    first = timed(lambda: import_listening_data(engine, data, location="bench"))
    again = timed(lambda: import_listening_data(engine, data, location="bench"))
    reference = timed(lambda: row_by_row_ratings(engine, data))
    engine.dispose()
    return {"first": first, "again": again, "reference": reference}


def main() -> None:
    load = time.perf_counter()
    data = load_lastfm(DATA)
    read_seconds = time.perf_counter() - load
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = measure(f"sqlite:///{folder}/bench.sqlite3", data)
    with temporary_postgres_database() as url:
        results["PostgreSQL"] = measure(url, data)
    rows = [
        "| database | first import (ours) | second import, no change (ours) "
        "| ratings row by row (reference) | speed-up on ratings |",
        "|---|---|---|---|---|",
    ]
    for database, figures in results.items():
        rows.append(
            f"| {database} | {figures['first']:.2f} s | {figures['again']:.2f} s "
            f"| {figures['reference']:.2f} s | {figures['reference'] / figures['first']:.0f}x |"
        )
    body = (
        f"`{DATA}`: {data.source_rows:,} rows -> {data.n_users:,} users, "
        f"{data.artist_ids.size:,} artists, {data.listens.size:,} ratings. Reading and validating "
        f"the files: {read_seconds:.2f} s (not included below). Ours writes users, artists and "
        "ratings in one transaction; the reference writes the ratings alone.\n\n" + "\n".join(rows)
    )
    print(body)
    write_section("Import of the Last.fm starter data", body)


if __name__ == "__main__":
    main()
