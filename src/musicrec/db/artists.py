"""Catalogue queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from musicrec.db.models import Artist, Rating
from musicrec.names import fold_name


@dataclass(frozen=True)
class CatalogueEntry:
    id: int
    name: str
    raters: int


def get_artist(session: Session, artist_id: int) -> Artist | None:
    return session.get(Artist, artist_id)


def get_artists(session: Session, artist_ids: Iterable[int]) -> dict[int, Artist]:
    ids = list(artist_ids)
    if not ids:
        return {}
    rows = session.execute(select(Artist).where(Artist.id.in_(ids))).scalars()
    return {artist.id: artist for artist in rows}


def catalogue_entries(session: Session) -> list[CatalogueEntry]:
    """Every artist and how many users rated it, for the search index."""
    raters = (
        select(Rating.artist_id, func.count().label("raters")).group_by(Rating.artist_id).subquery()
    )
    rows = session.execute(
        select(Artist.id, Artist.name, func.coalesce(raters.c.raters, 0))
        .outerjoin(raters, raters.c.artist_id == Artist.id)
        .order_by(Artist.id)
    )
    return [CatalogueEntry(id=row[0], name=row[1], raters=int(row[2])) for row in rows]


def catalogue_version(session: Session) -> tuple[int, int]:
    """(highest id, count): changes whenever an artist is added or removed."""
    row = session.execute(select(func.coalesce(func.max(Artist.id), 0), func.count(Artist.id)))
    highest, count = row.one()
    return int(highest), int(count)


def find_by_name(session: Session, name: str) -> list[Artist]:
    return list(session.execute(select(Artist).where(Artist.name_key == fold_name(name))).scalars())


def add_artist(session: Session, name: str, lastfm_url: str | None) -> Artist:
    artist = Artist(name=name, name_key=fold_name(name), lastfm_url=lastfm_url)
    session.add(artist)
    session.flush()
    return artist
