"""Synthetic Last.fm-360K-shaped listening into a migrated musicrec database, with COPY.

Users, artists and ratings go in as CSV written by pyarrow (in C++, a million rows a chunk)
and streamed through ``COPY ... FROM STDIN``; no Python loop per row. The loading session
runs with ``session_replication_role = replica``: no per-row foreign-key checks or triggers,
the rows being consistent by construction (every rating's user and artist exist, pairs are
distinct). The tables are analysed afterwards, as autovacuum would, so the training query
is planned on real statistics.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy.engine import make_url

import synthetic

CHUNK_ROWS = 1_000_000
STAMP = "2026-01-01 00:00:00+00"
SOURCE = "lastfm"  # a trainable source (db.trainable)
STATEMENT_TIMEOUT_S = 900  # bounds each COPY (17.5M ratings take a few minutes)


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as libpq takes it (no ``+driver``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _csv_chunks(table: pa.Table) -> Iterator[bytes]:
    options = pacsv.WriteOptions(include_header=False)
    for batch in table.to_batches(max_chunksize=CHUNK_ROWS):
        sink = io.BytesIO()
        pacsv.write_csv(pa.Table.from_batches([batch]), sink, options)
        yield sink.getvalue()


def copy_table(cursor: psycopg.Cursor, name: str, table: pa.Table) -> None:
    """COPY ``table``'s rows into the table ``name`` (its columns named as ``table``'s)."""
    columns = ", ".join(table.column_names)
    with cursor.copy(f"COPY {name} ({columns}) FROM STDIN (FORMAT csv)") as copy:
        for chunk in _csv_chunks(table):
            copy.write(chunk)


def _named(prefix: str, ids: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(pa.repeat(prefix, len(ids)), pc.cast(ids, pa.string()), "")


def load_listening(url: str, data: synthetic.Listening, ratings: np.ndarray) -> dict[str, float]:
    """Users u<id>, artists a<id> (ids from 1) and every (user, artist, rating, plays) row;
    seconds of each step."""
    seconds: dict[str, float] = {}
    user_ids = pa.array(np.arange(1, data.n_users + 1, dtype=np.int32))
    artist_ids = pa.array(np.arange(1, data.n_artists + 1, dtype=np.int32))
    rows = len(data.plays)
    tables = {
        "users": pa.table(
            {
                "id": user_ids,
                "username": _named("u", user_ids),
                "username_key": _named("u", user_ids),
                "created_at": pa.repeat(STAMP, data.n_users),
            }
        ),
        "artists": pa.table(
            {
                "id": artist_ids,
                "name": _named("a", artist_ids),
                "name_key": _named("a", artist_ids),
                "created_at": pa.repeat(STAMP, data.n_artists),
            }
        ),
        "ratings": pa.table(
            {
                "user_id": pa.array(data.user_ids.astype(np.int32) + 1),
                "artist_id": pa.array(data.artist_ids.astype(np.int32) + 1),
                "rating": pa.array(np.asarray(ratings).astype(np.int16)),
                "source": pa.repeat(SOURCE, rows),
                "listens": pa.array(data.plays.astype(np.int32)),
                "created_at": pa.repeat(STAMP, rows),
                "updated_at": pa.repeat(STAMP, rows),
            }
        ),
    }
    with psycopg.connect(libpq_url(url)) as connection:
        connection.execute("SET session_replication_role = replica")
        connection.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_S * 1000}")
        with connection.cursor() as cursor:
            for name, table in tables.items():
                start = time.perf_counter()
                copy_table(cursor, name, table)
                seconds[f"copy_{name}"] = time.perf_counter() - start
            for name in ("users", "artists"):  # later inserts continue after the loaded ids
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
        connection.commit()
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        start = time.perf_counter()
        connection.execute("ANALYZE users, artists, ratings")
        seconds["analyze"] = time.perf_counter() - start
    return seconds
