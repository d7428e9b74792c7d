"""The top songs cache: a few songs per artist, replaced as a whole when refreshed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from musicrec.db.models import TopSong
from musicrec.db.types import utcnow


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

    An artist cached with no songs at all is not listed (it is looked up again when stale)."""
    ids = list(artist_ids)
    if not ids:
        return {}
    query = select(TopSong).where(TopSong.artist_id.in_(ids))
    if fresh_after is not None:
        query = query.where(TopSong.fetched_at > fresh_after)
    rows = session.execute(query.order_by(TopSong.artist_id, TopSong.rank)).scalars()
    found: dict[int, list[CachedSong]] = {}
    for row in rows:
        found.setdefault(row.artist_id, []).append(CachedSong(row.title, row.url, row.spotify_uri))
    return found


def replace_songs(session: Session, artist_id: int, songs: list[CachedSong]) -> None:
    """Replace the artist's cached songs (ranks 1..n)."""
    session.execute(delete(TopSong).where(TopSong.artist_id == artist_id))
    now = utcnow()
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
