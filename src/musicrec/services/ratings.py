"""A user's ratings: set, change, remove, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from musicrec.db import artists
from musicrec.db import ratings as rating_rows
from musicrec.db.models import RATING_MAX, RATING_MIN
from musicrec.services.catalogue import ArtistView
from musicrec.services.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class RatingView:
    artist: ArtistView
    rating: int
    source: str
    updated_at: datetime


def check_rating(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput({"rating": f"Give a whole number from {RATING_MIN} to {RATING_MAX}."})
    if not RATING_MIN <= value <= RATING_MAX:
        raise InvalidInput({"rating": f"Give a whole number from {RATING_MIN} to {RATING_MAX}."})
    return value


def rate(session: Session, user_id: int, artist_id: int, value: object) -> tuple[RatingView, bool]:
    """Set the user's rating of an artist; returns it and whether it is new."""
    rating_value = check_rating(value)
    artist = artists.get_artist(session, artist_id)
    if artist is None or not artists.may_see(session, artist, user_id):
        raise NotFound("No artist has this id.")
    row, created = rating_rows.set_rating(session, user_id, artist_id, rating_value)
    return RatingView(ArtistView.of(artist), row.rating, row.source, row.updated_at), created


def unrate(session: Session, user_id: int, artist_id: int) -> bool:
    return rating_rows.delete_rating(session, user_id, artist_id)


# How My ratings can be sorted, and what each order is called.
SORT_ORDERS = {"date": "Newest", "rating": "Rating", "name": "Name"}


def count(session: Session, user_id: int) -> int:
    return rating_rows.count_user_ratings(session, user_id)


def rating_of(session: Session, user_id: int, artist_id: int) -> int | None:
    row = rating_rows.get_rating(session, user_id, artist_id)
    return row.rating if row else None


def rating_pairs(session: Session, user_id: int) -> tuple[list[int], list[int]]:
    return rating_rows.user_rating_pairs(session, user_id)
