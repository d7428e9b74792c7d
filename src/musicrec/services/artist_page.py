"""What an artist's page shows besides the artist: its listeners here, and the viewer's
ratings of the similar artists listed, so each can be rated from the page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from musicrec.db import artist_listeners
from musicrec.db import ratings as rating_rows


@dataclass(frozen=True)
class ArtistFacts:
    listeners: int
    my_ratings: dict[int, int]  # artist id -> the viewer's rating, for the similar artists


def artist_facts(
    session: Session, artist_id: int, viewer: int | None, similar_ids: list[int]
) -> ArtistFacts:
    """The listener count, and ``viewer``'s ratings of ``similar_ids`` (none when anonymous)."""
    mine: dict[int, int] = {}
    if viewer is not None and similar_ids:
        found = rating_rows.ratings_of_artists(session, viewer, similar_ids)
        mine = {artist: value for artist, (value, _source) in found.items()}
    return ArtistFacts(artist_listeners.listener_count(session, artist_id), mine)
