from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select, text

from musicrec.datasets import load_lastfm
from musicrec.db import bulk_import
from musicrec.db.models import Artist, DataImport, Rating, User
from musicrec.db.session import transaction
from musicrec.engine.mapping import listens_to_ratings
from musicrec.services.importing import (
    already_imported,
    import_fingerprint,
)
from tests.factories import import_in_transaction, write_csv_pair


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (User, Artist, Rating)
        )


def _ratings_snapshot(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT u.lastfm_id, a.lastfm_id, r.rating, r.listens, r.source, r.updated_at "
                "FROM ratings r JOIN users u ON u.id = r.user_id "
                "JOIN artists a ON a.id = r.artist_id ORDER BY 1, 2"
            )
        )
        return [tuple(row) for row in rows]


def test_import_creates_starter_users_who_cannot_log_in(db_engine: Engine, tmp_path: Path) -> None:
    data = load_lastfm(write_csv_pair(tmp_path))

    summary = import_in_transaction(db_engine, data, location="small")

    assert (summary.users, summary.artists, summary.ratings) == (3, 5, 6)
    assert _counts(db_engine) == (3, 5, 6)
    with db_engine.connect() as connection:
        users = connection.execute(select(User.username, User.password_hash)).all()
    assert sorted(users) == [("lastfm:7", None), ("lastfm:8", None), ("lastfm:9", None)]


def test_ratings_are_the_mapping_of_summed_listens(db_engine: Engine, tmp_path: Path) -> None:
    data = load_lastfm(write_csv_pair(tmp_path))
    user_index = np.unique(data.user_ids, return_inverse=True)[1]
    expected = listens_to_ratings(user_index, data.listens)

    import_in_transaction(db_engine, data, location="small")

    snapshot = _ratings_snapshot(db_engine)
    assert [row[2] for row in snapshot] == expected.tolist()
    assert [row[3] for row in snapshot] == data.listens.tolist()
    assert {row[4] for row in snapshot} == {"lastfm"}
    assert (7, 1, expected[0], 153) == snapshot[0][:4]


def test_names_are_folded_for_search(db_engine: Engine, tmp_path: Path) -> None:
    import_in_transaction(db_engine, load_lastfm(write_csv_pair(tmp_path)), location="small")

    with db_engine.connect() as connection:
        keys = dict(connection.execute(select(Artist.name, Artist.name_key)).all())

    assert keys["Dan Bălan"] == keys["Dan Balan"] == "dan balan"
    assert keys["ＲＥＤ"] == "red"


def test_a_second_import_changes_nothing(db_engine: Engine, tmp_path: Path) -> None:
    data = load_lastfm(write_csv_pair(tmp_path))
    import_in_transaction(db_engine, data, location="small")
    before = _ratings_snapshot(db_engine)

    again = import_in_transaction(db_engine, data, location="small")

    assert (again.users_added, again.artists_changed, again.ratings_changed) == (0, 0, 0)
    assert _ratings_snapshot(db_engine) == before
    with transaction(db_engine) as session:
        assert already_imported(session, import_fingerprint(data))


def test_changed_listens_update_only_what_changed(db_engine: Engine, tmp_path: Path) -> None:
    import_in_transaction(db_engine, load_lastfm(write_csv_pair(tmp_path / "a")), location="a")
    listens = [(7, 1, 153), (7, 2, 10), (7, 5, 400), (8, 3, 5), (8, 4, 5), (9, 5, 2), (9, 1, 1)]
    changed = load_lastfm(write_csv_pair(tmp_path / "b", listens=listens))

    summary = import_in_transaction(db_engine, changed, location="b")

    assert summary.users_added == 0
    assert summary.ratings_changed == 2  # user 9's listens of artist 5, and a new pair
    assert _counts(db_engine) == (3, 5, 7)
    with transaction(db_engine) as session:
        assert not already_imported(session, "0" * 64)


def test_a_failure_mid_import_leaves_the_database_as_it_was(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_in_transaction(db_engine, load_lastfm(write_csv_pair(tmp_path / "a")), location="a")
    before = _ratings_snapshot(db_engine)
    listens = [(7, 1, 1), (10, 2, 3), (11, 3, 4)]
    bigger = load_lastfm(write_csv_pair(tmp_path / "b", listens=listens))

    def fail(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk_import.Stager, "drop", fail)  # after every merge has run

    with pytest.raises(RuntimeError, match="disk full"):
        import_in_transaction(db_engine, bigger, location="b")

    assert _ratings_snapshot(db_engine) == before
    assert _counts(db_engine) == (3, 5, 6)
    with db_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(DataImport)).scalar_one() == 1


@pytest.mark.realdata
@pytest.mark.slow
def test_shared_data_imports_twice_to_the_same_counts(db_engine: Engine, shared_data: Path) -> None:
    data = load_lastfm(shared_data)

    first = import_in_transaction(db_engine, data, location=str(shared_data))
    snapshot = _ratings_snapshot(db_engine)
    second = import_in_transaction(db_engine, data, location=str(shared_data))

    assert _counts(db_engine) == (1702, 17493, 83340)
    assert (first.source_rows, first.ratings_changed) == (83403, 83340)
    assert second.ratings_changed == 0
    assert _ratings_snapshot(db_engine) == snapshot
