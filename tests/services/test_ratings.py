"""The ratings service: set, change, remove and list a user's ratings."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from musicrec.db import artists, users
from musicrec.services import rating_pages, ratings
from musicrec.services.catalogue import ArtistView
from musicrec.services.errors import InvalidInput, NotFound


def _user(session: Session, name: str = "ada") -> int:
    return users.add_user(session, name, f"{name}@example.org", "hash").id


def _artists(session: Session, *names: str) -> list[int]:
    return [artists.add_artist(session, name, None).id for name in names]


def test_rate_creates_then_updates(session: Session) -> None:
    ada = _user(session)
    (air,) = _artists(session, "Air")

    first, created = ratings.rate(session, ada, air, 7)
    second, created_again = ratings.rate(session, ada, air, 3)

    assert (created, created_again) == (True, False)
    assert (first.artist.name, first.rating, first.source) == ("Air", 7, "manual")
    assert second.rating == 3 and second.updated_at >= first.updated_at
    assert ratings.rating_of(session, ada, air) == 3
    assert ratings.count(session, ada) == 1


@pytest.mark.parametrize("value", [0, 11, -3, 5.0, "5", True, None])
def test_check_rating_refuses_anything_but_a_whole_number_from_1_to_10(value: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        ratings.check_rating(value)

    assert refused.value.errors == {"rating": "Give a whole number from 1 to 10."}


@pytest.mark.parametrize("value", [1, 10])
def test_check_rating_accepts_the_ends_of_the_scale(value: int) -> None:
    assert ratings.check_rating(value) == value


def test_rate_stores_nothing_for_a_bad_value(session: Session) -> None:
    ada = _user(session)
    (air,) = _artists(session, "Air")

    with pytest.raises(InvalidInput):
        ratings.rate(session, ada, air, 11)

    assert ratings.count(session, ada) == 0


def test_rating_an_unknown_artist_is_not_found(session: Session) -> None:
    ada = _user(session)

    with pytest.raises(NotFound):
        ratings.rate(session, ada, 12345, 5)

    assert ratings.count(session, ada) == 0


def test_unrate_says_whether_there_was_a_rating(session: Session) -> None:
    ada = _user(session)
    (air,) = _artists(session, "Air")
    ratings.rate(session, ada, air, 5)

    assert ratings.unrate(session, ada, air) is True
    assert ratings.unrate(session, ada, air) is False
    assert ratings.rating_of(session, ada, air) is None


def test_my_ratings_newest_first_and_only_mine(session: Session) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    air, muse, keane = _artists(session, "Air", "Muse", "Keane")
    ratings.rate(session, ada, air, 2)
    ratings.rate(session, ada, muse, 9)
    ratings.rate(session, bob, keane, 4)
    ratings.rate(session, ada, air, 6)

    mine = rating_pages.ratings_page(session, ada).ratings

    assert [(view.artist.id, view.rating) for view in mine] == [(air, 6), (muse, 9)]
    assert mine[0].artist == ArtistView(air, "Air", "https://www.last.fm/music/Air")
    assert [ratings.count(session, u) for u in (ada, bob)] == [2, 1]
    rated, values = ratings.rating_pairs(session, ada)
    assert sorted(zip(rated, values, strict=True)) == [(air, 6), (muse, 9)]
