"""The schema behind account erasure, on both databases: an unconfirmed artist always has its
owner, ids are never reused, and migration 0009 keeps every rating."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from musicrec.db import erasures, migrate
from musicrec.db.models import Artist, Rating, User
from musicrec.db.session import make_engine


def _user(connection: Connection | Session, name: str) -> int:
    query = insert(User).values(username=name, username_key=name).returning(User.id)
    return int(connection.execute(query).scalar_one())


def test_an_account_with_private_additions_cannot_just_be_dropped(db_engine: Engine) -> None:
    """ON DELETE SET NULL would make the addition everyone's: the CHECK refuses instead."""
    with db_engine.begin() as connection:
        owner = _user(connection, "ada")
        connection.execute(
            insert(Artist).values(name="X", name_key="x", added_by=owner, confirmed=False)
        )

    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(delete(User).where(User.id == owner))


def test_erasing_deletes_only_the_unconfirmed_additions(session: Session) -> None:
    owner = _user(session, "ada")
    for name, confirmed in (("Mine", False), ("Everyone's", True)):
        session.add(Artist(name=name, name_key=name, added_by=owner, confirmed=confirmed))
    session.flush()

    assert erasures.delete_private_additions(session, owner) == 1
    assert session.execute(select(Artist.name)).scalars().all() == ["Everyone's"]


def test_an_addition_another_listener_rated_passes_to_them_with_their_rating(
    session: Session,
) -> None:
    """A Spotify import lets a second listener see and rate someone's private addition: the
    owner's deletion must not delete that listener's rating; the artist becomes theirs."""
    owner, listener, later = (_user(session, name) for name in ("ada", "bob", "cy"))
    shared, alone = (
        Artist(name="Shared", name_key="shared", added_by=owner, confirmed=False),
        (Artist(name="Alone", name_key="alone", added_by=owner, confirmed=False)),
    )
    session.add_all([shared, alone])
    session.flush()
    for user in (owner, listener, later):
        session.add(Rating(user_id=user, artist_id=shared.id, rating=7))
    session.add(Rating(user_id=owner, artist_id=alone.id, rating=7))
    session.flush()

    assert erasures.delete_private_additions(session, owner) == 1
    session.expire_all()
    remaining = session.execute(select(Artist.name, Artist.added_by, Artist.confirmed)).all()
    assert remaining == [("Shared", listener, False)]  # the earliest other listener's, private
    raters = select(Rating.user_id).where(Rating.user_id != owner).order_by(Rating.user_id)
    assert session.execute(raters).scalars().all() == [listener, later]


def test_the_highest_id_is_never_handed_out_again(db_engine: Engine) -> None:
    with db_engine.begin() as connection:
        user = _user(connection, "ada")
        artist = connection.execute(
            insert(Artist).values(name="X", name_key="x").returning(Artist.id)
        ).scalar_one()
        connection.execute(delete(User).where(User.id == user))
        connection.execute(delete(Artist).where(Artist.id == artist))

        assert _user(connection, "bob") > user
        again = insert(Artist).values(name="Y", name_key="y").returning(Artist.id)
        assert connection.execute(again).scalar_one() > artist


@pytest.fixture
def engine_at_0008(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine, "0008")
    yield engine
    engine.dispose()


def test_0009_keeps_every_rating_and_deletes_ownerless_additions(engine_at_0008: Engine) -> None:
    with engine_at_0008.begin() as connection:
        users = [_user(connection, name) for name in ("ada", "bob", "cy")]
        artists = {}
        for name, added_by, confirmed in (("Pub", None, True), ("Mine", 2, False)):
            artists[name] = connection.execute(
                insert(Artist)
                .values(name=name, name_key=name, added_by=added_by, confirmed=confirmed)
                .returning(Artist.id)
            ).scalar_one()
        # an addition whose owner was deleted before 0009: public since then
        leaked = connection.execute(
            insert(Artist)
            .values(name="Leak", name_key="leak", added_by=None, confirmed=False)
            .returning(Artist.id)
        ).scalar_one()
        rated = [(user, artists["Pub"]) for user in users]
        rated += [(users[1], artists["Mine"]), (users[0], leaked)]
        for user, artist in rated:
            connection.execute(insert(Rating).values(user_id=user, artist_id=artist, rating=7))

    migrate.upgrade(engine_at_0008)

    with engine_at_0008.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Rating)).scalar_one() == 4
        names = set(connection.execute(select(Artist.name)).scalars())
        assert names == {"Pub", "Mine"}  # the leaked one gone, with its rating
        assert connection.execute(select(func.count()).select_from(User)).scalar_one() == 3
    assert migrate.is_up_to_date(engine_at_0008)
    migrate.downgrade(engine_at_0008, "0008")  # and back down, every rating still there
    with engine_at_0008.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Rating)).scalar_one() == 4
