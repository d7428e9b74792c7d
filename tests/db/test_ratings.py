"""Rating queries, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from musicrec.db import artists, ratings, users


def _user(session: Session, name: str = "ada") -> int:
    return users.add_user(session, name, f"{name}@example.org", "hash").id


def _artists(session: Session, *names: str) -> list[int]:
    return [artists.add_artist(session, name, None).id for name in names]


def test_set_rating_creates_then_changes_one_row(session: Session) -> None:
    ada = _user(session)
    (air,) = _artists(session, "Air")

    created, was_new = ratings.set_rating(session, ada, air, 4, source="spotify")
    first_update = created.updated_at
    changed, was_new_again = ratings.set_rating(session, ada, air, 9)

    assert (was_new, was_new_again) == (True, False)
    assert changed.id == created.id
    assert (changed.rating, changed.source) == (9, "manual")
    assert changed.updated_at >= first_update
    assert ratings.count_user_ratings(session, ada) == 1


def test_get_rating_of_one_user_and_artist(session: Session) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    air, muse = _artists(session, "Air", "Muse")
    ratings.set_rating(session, ada, air, 6)

    assert ratings.get_rating(session, ada, air).rating == 6  # type: ignore[union-attr]
    assert ratings.get_rating(session, ada, muse) is None
    assert ratings.get_rating(session, bob, air) is None


def test_delete_rating_says_whether_there_was_one(session: Session) -> None:
    ada = _user(session)
    air, muse = _artists(session, "Air", "Muse")
    ratings.set_rating(session, ada, air, 6)
    ratings.set_rating(session, ada, muse, 2)

    assert ratings.delete_rating(session, ada, air) is True
    assert ratings.delete_rating(session, ada, air) is False
    assert ratings.user_rating_pairs(session, ada) == ([muse], [2])


def test_user_ratings_newest_change_first_with_their_artist(session: Session) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    air, muse, keane = _artists(session, "Air", "Muse", "Keane")
    for artist, value in ((air, 3), (muse, 5), (keane, 7)):
        ratings.set_rating(session, ada, artist, value)
    ratings.set_rating(session, bob, muse, 1)
    ratings.set_rating(session, ada, air, 4)

    mine = ratings.user_ratings(session, ada)

    assert [(r.artist.name, r.rating) for r in mine] == [("Air", 4), ("Keane", 7), ("Muse", 5)]
    assert ratings.user_ratings(session, _user(session, "cy")) == []


def test_user_rating_pairs_and_counts_are_per_user(session: Session) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    air, muse = _artists(session, "Air", "Muse")
    ratings.set_rating(session, ada, air, 3)
    ratings.set_rating(session, ada, muse, 10)
    ratings.set_rating(session, bob, muse, 1)

    rated, values = ratings.user_rating_pairs(session, ada)

    assert sorted(zip(rated, values, strict=True)) == [(air, 3), (muse, 10)]
    assert ratings.user_rating_pairs(session, bob) == ([muse], [1])
    assert [ratings.count_user_ratings(session, u) for u in (ada, bob, bob + 1)] == [2, 1, 0]


def test_all_ratings_as_arrays_ordered_by_user_then_artist(session: Session) -> None:
    empty = ratings.all_ratings(session)
    ada, bob = _user(session, "ada"), _user(session, "bob")
    air, muse = _artists(session, "Air", "Muse")
    ratings.set_rating(session, bob, air, 2)
    ratings.set_rating(session, ada, muse, 8)
    ratings.set_rating(session, ada, air, 5)

    every = ratings.all_ratings(session)

    assert empty.ratings.shape == empty.user_ids.shape == empty.artist_ids.shape == (0,)
    np.testing.assert_array_equal(every.user_ids, [ada, ada, bob])
    np.testing.assert_array_equal(every.artist_ids, [air, muse, air])
    np.testing.assert_array_equal(every.ratings, [5, 8, 2])
    assert every.ratings.dtype == np.int64


def test_rating_batches_stream_every_rating_in_order_in_bounded_batches(session: Session) -> None:
    assert list(ratings.rating_batches(session)) == []
    ada, bob = _user(session, "ada"), _user(session, "bob")
    air, muse, keane = _artists(session, "Air", "Muse", "Keane")
    for user, artist, value in [(bob, air, 2), (ada, keane, 7), (ada, muse, 8), (ada, air, 5)]:
        ratings.set_rating(session, user, artist, value)

    batches = list(ratings.rating_batches(session, batch_size=3))

    assert [b.ratings.size for b in batches] == [3, 1]
    every = ratings.all_ratings(session)
    for name in ("user_ids", "artist_ids", "ratings"):
        joined = np.concatenate([getattr(b, name) for b in batches])
        np.testing.assert_array_equal(joined, getattr(every, name))
