from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from musicrec.db import migrate
from musicrec.db.models import Artist, Base, Rating, Recommendation, User


def _user(engine: Engine, name: str = "ada") -> int:
    with engine.begin() as connection:
        return connection.execute(
            insert(User).values(username=name, username_key=name).returning(User.id)
        ).scalar_one()


def _artist(engine: Engine, name: str = "Björk") -> int:
    with engine.begin() as connection:
        return connection.execute(
            insert(Artist).values(name=name, name_key=name.casefold()).returning(Artist.id)
        ).scalar_one()


def test_migrations_build_exactly_the_models_schema(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []
    assert migrate.is_up_to_date(db_engine)


def test_init_db_is_safe_to_run_again(db_engine: Engine) -> None:
    _user(db_engine)

    migrate.upgrade(db_engine)

    with db_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(User)).scalar_one() == 1


def test_artist_name_key_is_indexed_and_not_unique(db_engine: Engine) -> None:
    _artist(db_engine, "Red")
    _artist(db_engine, "Red")

    indexes = inspect(db_engine).get_indexes("artists")

    assert any(index["column_names"] == ["name_key"] and not index["unique"] for index in indexes)


@pytest.mark.parametrize("value", [0, 11, -1])
def test_ratings_outside_1_to_10_are_refused(db_engine: Engine, value: int) -> None:
    user, artist = _user(db_engine), _artist(db_engine)

    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(insert(Rating).values(user_id=user, artist_id=artist, rating=value))


def test_one_rating_per_user_and_artist(db_engine: Engine) -> None:
    user, artist = _user(db_engine), _artist(db_engine)
    with db_engine.begin() as connection:
        connection.execute(insert(Rating).values(user_id=user, artist_id=artist, rating=7))

    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(insert(Rating).values(user_id=user, artist_id=artist, rating=3))


def test_unknown_rating_source_is_refused(db_engine: Engine) -> None:
    user, artist = _user(db_engine), _artist(db_engine)

    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(
            insert(Rating).values(user_id=user, artist_id=artist, rating=5, source="guess")
        )


def test_a_recommendation_is_never_stored_twice(db_engine: Engine) -> None:
    user, artist = _user(db_engine), _artist(db_engine)
    values = {"user_id": user, "artist_id": artist, "score": 0.5, "model_version": "v1"}
    with db_engine.begin() as connection:
        connection.execute(insert(Recommendation).values(**values))

    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(insert(Recommendation).values(**values))


def test_usernames_are_unique_whatever_their_case(db_engine: Engine) -> None:
    _user(db_engine, "ada")

    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(insert(User).values(username="ADA", username_key="ada"))


def test_deleting_a_user_deletes_their_ratings_and_recommendations(db_engine: Engine) -> None:
    user, artist = _user(db_engine), _artist(db_engine)
    with db_engine.begin() as connection:
        connection.execute(insert(Rating).values(user_id=user, artist_id=artist, rating=9))
        connection.execute(
            insert(Recommendation).values(
                user_id=user, artist_id=artist, score=1.0, model_version="v1"
            )
        )
        connection.execute(User.__table__.delete().where(User.id == user))

    with db_engine.connect() as connection:
        for table in (Rating, Recommendation):
            assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(Artist)).scalar_one() == 1


def test_a_rating_needs_an_existing_artist(db_engine: Engine) -> None:
    user = _user(db_engine)

    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(insert(Rating).values(user_id=user, artist_id=12345, rating=5))
