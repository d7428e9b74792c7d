"""The Parquet ratings snapshot (``musicrec export-ratings``), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from musicrec.cli import main
from musicrec.datasets import load_lastfm
from musicrec.db.ratings import all_ratings
from musicrec.services import exporting
from tests.factories import import_in_transaction, write_csv_pair

LISTENS = [(u, a, u * a + 1) for u in range(1, 6) for a in range(1, 5) if (u + a) % 2]


def _import(db_engine: Engine, tmp_path: Path) -> None:
    artists = [(a, f"Artist {a}") for a in range(1, 5)]
    data = load_lastfm(write_csv_pair(tmp_path / "data", artists=artists, listens=LISTENS))
    import_in_transaction(db_engine, data, location="small")


def test_the_snapshot_holds_every_rating_in_order(db_engine: Engine, tmp_path: Path) -> None:
    _import(db_engine, tmp_path)
    target = tmp_path / "out" / "ratings.parquet"

    with Session(db_engine) as session:
        report = exporting.export_ratings(session, target, batch_size=4)
        expected = all_ratings(session)

    table = pq.read_table(target)
    assert report.ratings == len(LISTENS) == table.num_rows
    assert table.schema.names == ["user_id", "artist_id", "rating"]
    assert str(table.schema.field("rating").type) == "int16"
    np.testing.assert_array_equal(table.column("user_id").to_numpy(), expected.user_ids)
    np.testing.assert_array_equal(table.column("artist_id").to_numpy(), expected.artist_ids)
    np.testing.assert_array_equal(table.column("rating").to_numpy(), expected.ratings)
    assert [p.name for p in target.parent.iterdir()] == ["ratings.parquet"]


def test_an_empty_database_gives_an_empty_snapshot_with_the_columns(
    db_engine: Engine, tmp_path: Path
) -> None:
    target = tmp_path / "empty.parquet"

    with Session(db_engine) as session:
        report = exporting.export_ratings(session, target)

    table = pq.read_table(target)
    assert report.ratings == table.num_rows == 0
    assert table.schema.names == ["user_id", "artist_id", "rating"]


def test_a_failed_export_keeps_the_previous_snapshot(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(db_engine, tmp_path)
    target = tmp_path / "ratings.parquet"
    with Session(db_engine) as session:
        exporting.export_ratings(session, target)
    before = target.read_bytes()

    def broken(*_args: object, **_kwargs: object):
        raise OSError("disk full")
        yield  # a generator, like the real query function

    monkeypatch.setattr(exporting, "rating_batches", broken)
    with Session(db_engine) as session, pytest.raises(OSError, match="disk full"):
        exporting.export_ratings(session, target)

    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_ratings_command(
    db_engine: Engine, tmp_path: Path, settings_env: dict[str, str]
) -> None:
    _import(db_engine, tmp_path)
    target = tmp_path / "snapshot.parquet"

    result = CliRunner().invoke(main, ["export-ratings", str(target)], env=settings_env)

    assert result.exit_code == 0, result.output
    assert f"Wrote {len(LISTENS)} ratings to {target}" in result.output
    assert pq.read_table(target).num_rows == len(LISTENS)
