"""The top songs cache: a few songs per artist, replaced as a whole when refreshed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from musicrec.db.models import TopSong
from musicrec.db.types import utcnow

# The row that says "looked up, no songs found": an artist's songs are ranked from 1, so an
# artist without any is not asked for again (from every page that shows it) until it is stale.
NONE_FOUND_RANK = 0


@dataclass(frozen=True)
class CachedSong:
    title: str
    url: str | None
    spotify_uri: str | None


def cached_songs(
    session: Session, artist_ids: Iterable[int], fresh_after: datetime | None
) -> dict[int, list[CachedSong]]:
    """The cached songs of these artists fetched after ``fresh_after`` (None: whenever; stale
    songs are shown while the source is down), in rank order.

    An artist looked up with no songs found is listed with none; one never looked up (or
    only before ``fresh_after``) is not listed."""
    ids = list(artist_ids)
    if not ids:
        return {}
    query = select(TopSong).where(TopSong.artist_id.in_(ids))
    if fresh_after is not None:
        query = query.where(TopSong.fetched_at > fresh_after)
    rows = session.execute(query.order_by(TopSong.artist_id, TopSong.rank)).scalars()
    found: dict[int, list[CachedSong]] = {}
    for row in rows:
        songs = found.setdefault(row.artist_id, [])
        if row.rank != NONE_FOUND_RANK:
            songs.append(CachedSong(row.title, row.url, row.spotify_uri))
    return found


def replace_songs(session: Session, artist_id: int, songs: list[CachedSong]) -> None:
    """Replace the artist's cached songs (ranks 1..n; none: the ``NONE_FOUND_RANK`` row)."""
    session.execute(delete(TopSong).where(TopSong.artist_id == artist_id))
    now = utcnow()
    if not songs:
        session.add(TopSong(artist_id=artist_id, rank=NONE_FOUND_RANK, title="", fetched_at=now))
    for rank, song in enumerate(songs, start=1):
        session.add(
            TopSong(
                artist_id=artist_id,
                rank=rank,
                title=song.title[:512],
                url=song.url,
                spotify_uri=song.spotify_uri,
                fetched_at=now,
            )
        )
    session.flush()
