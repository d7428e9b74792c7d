"""A user's "not for me" list: artists never to recommend to them again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from musicrec.db import artists
from musicrec.db import dislikes as dislike_rows
from musicrec.services.catalogue import ArtistView
from musicrec.services.errors import NotFound


@dataclass(frozen=True)
class DislikeView:
    artist: ArtistView
    created_at: datetime


def visible_artist(session: Session, user_id: int, artist_id: int) -> ArtistView:
    """The artist if the user may see it (``artists.may_see``); NotFound otherwise."""
    artist = artists.get_artist(session, artist_id)
    if artist is None or not artists.may_see(session, artist, user_id):
        raise NotFound("No artist has this id.")
    return ArtistView.of(artist)


def dislike(session: Session, user_id: int, artist_id: int) -> None:
    """Mark the artist "not for me" (doing it again changes nothing)."""
    visible_artist(session, user_id, artist_id)
    dislike_rows.add_dislikes(session, user_id, [artist_id])


def undo(session: Session, user_id: int, artist_id: int) -> bool:
    """Take the artist off the list; False if it was not on it."""
    return dislike_rows.delete_dislike(session, user_id, artist_id)


def my_dislikes(session: Session, user_id: int) -> list[DislikeView]:
    return [
        DislikeView(ArtistView.of(row.artist), row.created_at)
        for row in dislike_rows.user_dislikes(session, user_id)
    ]


def disliked_ids(session: Session, user_id: int) -> set[int]:
    return dislike_rows.disliked_artist_ids(session, user_id)
