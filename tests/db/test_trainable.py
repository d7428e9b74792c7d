"""One definition of a trainable rating, the same for every reader of training data.

A small database holds one trainable rating of each kind (manual, lastfm) next to every kind of
rating that must never train: a Spotify import, an unsigned file row, and ratings of an artist
that a user added and the operator has not confirmed. Training, tuning, the Parquet export,
popularity, the operator's counts and the retraining counter must all see the same two rows.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from musicrec.db import activity
from musicrec.db.models import RATING_SOURCES, Artist, Rating, TrainingDataChange, User
from musicrec.db.ratings import all_ratings, rating_batches, rating_counts
from musicrec.db.types import utcnow
from musicrec.services.hyperparameters import database_split

TRAINABLE_ROWS = {("ada", "Air", 8), ("bob", "Air", 5)}


def _add(session: Session, model: type, **values: object) -> int:
    return int(session.execute(insert(model).values(**values).returning(model.id)).scalar_one())


@pytest.fixture
def rows(db_engine: Engine) -> dict[str, int]:
    """Users and artists by name; the ratings of the module docstring (committed)."""
    with Session(db_engine) as session:
        ids = {
            name: _add(session, User, username=name, username_key=name) for name in ("ada", "bob")
        }
        for name in ("Air", "Muse"):
            ids[name] = _add(session, Artist, name=name, name_key=name.casefold())
        ids["Private"] = _add(
            session,
            Artist,
            name="Private",
            name_key="private",
            confirmed=False,
            added_by=ids["ada"],
        )
        for user, artist, value, source in [
            ("ada", "Air", 8, "manual"),
            ("ada", "Muse", 9, "spotify"),
            ("ada", "Private", 7, "manual"),
            ("bob", "Air", 5, "lastfm"),
            ("bob", "Muse", 4, "file"),
            ("bob", "Private", 3, "manual"),
        ]:
            session.execute(
                insert(Rating).values(
                    user_id=ids[user], artist_id=ids[artist], rating=value, source=source
                )
            )
        session.commit()
    return ids


def _named(ids: dict[str, int], users: object, artists: object, values: object) -> set[tuple]:
    """The rows as (user name, artist name, value)."""
    user_names = {ids[name]: name for name in ("ada", "bob")}
    artist_names = {ids[name]: name for name in ("Air", "Muse", "Private")}
    return {
        (user_names[int(u)], artist_names[int(a)], int(v))
        for u, a, v in zip(users, artists, values, strict=True)  # type: ignore[call-overload]
    }


def test_training_reads_only_trainable_ratings(db_engine: Engine, rows: dict[str, int]) -> None:
    with Session(db_engine) as session:
        data = all_ratings(session)

    assert _named(rows, data.user_ids, data.artist_ids, data.ratings) == TRAINABLE_ROWS


def test_tuning_splits_only_trainable_ratings(db_engine: Engine, rows: dict[str, int]) -> None:
    with Session(db_engine) as session:
        split = database_split(session)

    train = split.train
    rated = train.items.ids[np.unique(train.matrix.indices)].tolist()
    held_out = [artist for held in split.relevant for artist in held]
    assert train.matrix.nnz + len(held_out) == 2
    assert set(rated) | set(held_out) == {rows["Air"]}
    assert set(train.users.ids.tolist()) <= {rows["ada"], rows["bob"]}


def test_the_parquet_snapshot_holds_only_trainable_ratings(
    db_engine: Engine, rows: dict[str, int], tmp_path: Path
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    from musicrec.services.exporting import export_ratings

    with Session(db_engine) as session:
        report = export_ratings(session, tmp_path / "ratings.parquet")
        batches = list(rating_batches(session, batch_size=1))
    table = pq.read_table(tmp_path / "ratings.parquet").to_pydict()

    assert report.ratings == 2
    assert _named(rows, table["user_id"], table["artist_id"], table["rating"]) == TRAINABLE_ROWS
    assert [b.ratings.size for b in batches] == [1, 1]


def test_popularity_counts_only_trainable_ratings(db_engine: Engine, rows: dict[str, int]) -> None:
    with Session(db_engine) as session:
        artist_ids, counts = rating_counts(session)

    assert dict(zip(artist_ids.tolist(), counts.tolist(), strict=True)) == {rows["Air"]: 2}


def test_the_operator_page_counts_only_trainable_ratings(
    db_engine: Engine, rows: dict[str, int]
) -> None:
    with Session(db_engine) as session:
        histogram = activity.rating_histogram(session)
        per_day = activity.ratings_per_day(session, utcnow() - timedelta(days=1))

    assert histogram == {5: 1, 8: 1}
    assert sum(per_day.values()) == 2


def test_the_retraining_counter_counts_only_trainable_ratings(
    db_engine: Engine, rows: dict[str, int]
) -> None:
    with Session(db_engine) as session:
        assert activity.ratings_changed_since(session, None) == 2
        assert activity.ratings_changed_since(session, utcnow() + timedelta(minutes=1)) == 0


def _changes(session: Session) -> int:
    return int(
        session.execute(select(func.coalesce(func.sum(TrainingDataChange.changes), 0))).scalar()
    )


def _reset_changes(session: Session) -> None:
    session.execute(delete(TrainingDataChange))


def test_deleting_an_account_counts_its_trainable_ratings(
    db_engine: Engine, rows: dict[str, int]
) -> None:
    with Session(db_engine) as session:
        _reset_changes(session)
        session.execute(delete(User).where(User.id == rows["bob"]))  # its ratings cascade
        deleted_bob = _changes(session)
        session.execute(delete(Rating).where(Rating.user_id == rows["ada"]))
        deleted_ada = _changes(session) - deleted_bob

    assert (deleted_bob, deleted_ada) == (1, 1)  # Air only: the rest never trained


def test_an_unchanged_write_counts_nothing_and_a_change_counts_once(
    db_engine: Engine, rows: dict[str, int]
) -> None:
    air = (Rating.user_id == rows["ada"]) & (Rating.artist_id == rows["Air"])
    with Session(db_engine) as session:
        _reset_changes(session)
        session.execute(update(Rating).where(air).values(rating=8, updated_at=utcnow()))
        same = _changes(session)
        session.execute(update(Rating).where(air).values(source="lastfm"))
        other_trainable_source = _changes(session)
        session.execute(update(Rating).where(air).values(rating=2))
        new_value = _changes(session)
        session.execute(update(Rating).where(air).values(source="spotify"))
        left = _changes(session)

    assert (same, other_trainable_source, new_value, left) == (0, 0, 1, 2)


def test_confirming_an_artist_counts_its_trainable_ratings(
    db_engine: Engine, rows: dict[str, int]
) -> None:
    with Session(db_engine) as session:
        _reset_changes(session)
        session.execute(update(Artist).where(Artist.id == rows["Private"]).values(confirmed=True))
        confirmed = _changes(session)
        data = all_ratings(session)

    assert confirmed == 2  # ada's and bob's manual ratings of it now train
    assert int(data.ratings.size) == 4


@pytest.mark.parametrize("source", RATING_SOURCES)
@pytest.mark.parametrize("confirmed", [True, False])
def test_the_counting_triggers_agree_with_the_definition(
    db_engine: Engine, rows: dict[str, int], source: str, confirmed: bool
) -> None:
    """Migration 0010's triggers repeat the definition in SQL: insert, change and delete one
    rating of each kind; each counts exactly when training reads the row."""
    with Session(db_engine) as session:
        artist = _add(
            session,
            Artist,
            name="New",
            name_key="new",
            confirmed=confirmed,
            added_by=None if confirmed else rows["bob"],
        )
        before = len(all_ratings(session).ratings)
        _reset_changes(session)
        session.execute(
            insert(Rating).values(user_id=rows["bob"], artist_id=artist, rating=6, source=source)
        )
        trains = len(all_ratings(session).ratings) - before
        inserted = _changes(session)
        session.execute(update(Rating).where(Rating.artist_id == artist).values(rating=7))
        changed = _changes(session) - inserted
        session.execute(delete(Rating).where(Rating.artist_id == artist))
        deleted = _changes(session) - inserted - changed

    assert trains in (0, 1)
    assert (inserted, changed, deleted) == (trains, trains, trains)
