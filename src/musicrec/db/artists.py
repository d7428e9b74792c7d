"""Catalogue queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select, union_all, update
from sqlalchemy.orm import Session

from musicrec.db.models import Artist, Rating
from musicrec.names import fold_name


@dataclass(frozen=True)
class CatalogueEntry:
    id: int
    name: str
    raters: int
    owner: int | None = None  # who added it, while it is unconfirmed
    lastfm_url: str | None = None  # the stored link, as imported
    image_url: str | None = None


def get_artist(session: Session, artist_id: int) -> Artist | None:
    return session.get(Artist, artist_id)


def get_artists(session: Session, artist_ids: Iterable[int]) -> dict[int, Artist]:
    ids = list(artist_ids)
    if not ids:
        return {}
    rows = session.execute(select(Artist).where(Artist.id.in_(ids))).scalars()
    return {artist.id: artist for artist in rows}


def catalogue_entries(session: Session, after_id: int = 0) -> list[CatalogueEntry]:
    """Every artist with id > ``after_id``, how many users rated it and, while unconfirmed,
    who added it: the search index's entries."""
    raters = (
        select(Rating.artist_id, func.count().label("raters")).group_by(Rating.artist_id).subquery()
    )
    rows = session.execute(
        select(
            Artist.id,
            Artist.name,
            func.coalesce(raters.c.raters, 0),
            Artist.added_by,
            Artist.confirmed,
            Artist.lastfm_url,
            Artist.image_url,
        )
        .outerjoin(raters, raters.c.artist_id == Artist.id)
        .where(Artist.id > after_id)
        .order_by(Artist.id)
    )
    return [
        CatalogueEntry(id, name, int(count), None if confirmed else added_by, lastfm_url, image)
        for id, name, count, added_by, confirmed, lastfm_url, image in rows
    ]


def private_entries(session: Session, viewer: int) -> list[CatalogueEntry]:
    """The unconfirmed artists ``viewer`` may see (``may_see``: added or rated by them) as
    search index entries, in id order. Found through the viewer's own rows only (the index on
    artists(added_by, created_at), ratings' unique (user_id, artist_id), then the artists by
    id): other users' additions cost nothing, however many."""
    raters = (
        select(func.count())
        .where(Rating.artist_id == Artist.id)
        .correlate(Artist)
        .scalar_subquery()
    )
    columns = (Artist.id, Artist.name, raters, Artist.added_by, Artist.lastfm_url, Artist.image_url)
    added = select(*columns).where(Artist.added_by == viewer, Artist.confirmed.is_(False))
    rated = (
        select(*columns)
        .join(Rating, Rating.artist_id == Artist.id)
        .where(
            Rating.user_id == viewer,
            Artist.confirmed.is_(False),
            Artist.added_by != viewer,  # (an unconfirmed artist always has its adder)
        )
    )
    rows = session.execute(union_all(added, rated).order_by("id"))
    return [
        CatalogueEntry(id, name, int(count), added_by, lastfm_url, image)
        for id, name, count, added_by, lastfm_url, image in rows
    ]


def catalogue_version(session: Session) -> tuple[int, int, int, int]:
    """(highest id, count, unconfirmed count, renames): changes whenever an artist is added,
    removed, confirmed or renamed by its listeners' spelling (``db.spellings``). The renames
    only grow while no artist is removed, so a rename never goes unseen."""
    row = session.execute(
        select(
            func.coalesce(func.max(Artist.id), 0),
            func.count(Artist.id),
            func.count(Artist.id).filter(Artist.confirmed.is_(False)),
            func.coalesce(func.sum(Artist.renames), 0),
        )
    )
    highest, count, unconfirmed, renames = row.one()
    return int(highest), int(count), int(unconfirmed), int(renames)


def count_added_since(
    session: Session, user_id: int, since: datetime, imported: bool = False
) -> int:
    """How many artists the user added since ``since``: by hand, or (``imported``) through a
    Spotify import (those hold a Spotify id); each kind has its own daily limit."""
    query = select(func.count()).where(
        Artist.added_by == user_id,
        Artist.created_at >= since,
        Artist.spotify_id.is_not(None) if imported else Artist.spotify_id.is_(None),
    )
    return int(session.execute(query).scalar_one())


def may_see(session: Session, artist: Artist, viewer: int | None) -> bool:
    """Whether ``viewer`` may see the artist: a confirmed one, everyone; an unconfirmed one,
    who added it and who rated it (a listener whose Spotify import met it), nobody else."""
    if artist.confirmed:
        return True
    if viewer is None:
        return False
    if artist.added_by == viewer:
        return True
    rated = select(Rating.id).where(Rating.user_id == viewer, Rating.artist_id == artist.id)
    return session.execute(rated).first() is not None


def visible_among(session: Session, artist_ids: Iterable[int], viewer: int) -> dict[int, bool]:
    """Of these artists, those ``viewer`` may see (``may_see``), each with whether it is
    confirmed: one query per 500 ids, plain rows, for an import's thousands of rows."""
    ids = list(artist_ids)
    rated_by_viewer = (
        select(Rating.id).where(Rating.user_id == viewer, Rating.artist_id == Artist.id).exists()
    )
    found: dict[int, bool] = {}
    for start in range(0, len(ids), 500):  # bound the IN list
        rows = session.execute(
            select(Artist.id, Artist.confirmed).where(
                Artist.id.in_(ids[start : start + 500]),
                Artist.confirmed.is_(True) | (Artist.added_by == viewer) | rated_by_viewer,
            )
        )
        found.update({artist_id: bool(confirmed) for artist_id, confirmed in rows})
    return found


def confirm_when_rated_by(session: Session, artist_ids: Iterable[int], listeners: int) -> int:
    """Confirm those of these unconfirmed artists that at least ``listeners`` distinct users
    rated; returns how many."""
    ids = list(artist_ids)
    if not ids:
        return 0
    enough = (
        select(Rating.artist_id)
        .where(Rating.artist_id.in_(ids))
        .group_by(Rating.artist_id)
        .having(func.count(func.distinct(Rating.user_id)) >= listeners)
    )
    return confirm_artists(session, session.execute(enough).scalars())


def unconfirmed_artists(session: Session) -> list[Artist]:
    query = select(Artist).where(Artist.confirmed.is_(False)).order_by(Artist.id)
    return list(session.execute(query).scalars())


def confirm_artists(session: Session, artist_ids: Iterable[int]) -> int:
    """Make these artists everyone's; returns how many were unconfirmed."""
    ids = list(artist_ids)
    if not ids:
        return 0
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Artist).where(Artist.id.in_(ids), Artist.confirmed.is_(False)).values(confirmed=True)
    )
    return int(result.rowcount)


def find_by_name(session: Session, name: str) -> list[Artist]:
    return list(session.execute(select(Artist).where(Artist.name_key == fold_name(name))).scalars())


def add_artist(
    session: Session, name: str, lastfm_url: str | None, added_by: int | None = None
) -> Artist:
    """A new artist; one a user adds (``added_by``) waits for the operator's confirmation."""
    artist = Artist(
        name=name,
        name_key=fold_name(name),
        lastfm_url=lastfm_url,
        added_by=added_by,
        confirmed=added_by is None,
    )
    session.add(artist)
    session.flush()
    return artist


def by_spotify_ids(session: Session, spotify_ids: Iterable[str]) -> dict[str, Artist]:
    """Artists holding these Spotify ids, by id."""
    ids = list(spotify_ids)
    found: dict[str, Artist] = {}
    for start in range(0, len(ids), 500):  # bound the IN list
        chunk = ids[start : start + 500]
        rows = session.execute(select(Artist).where(Artist.spotify_id.in_(chunk))).scalars()
        found.update({artist.spotify_id: artist for artist in rows if artist.spotify_id})
    return found


def most_rated_by_name_keys(
    session: Session, name_keys: Iterable[str], viewer: int
) -> dict[str, Artist]:
    """For each folded name, the artist the user may see (confirmed, or added by them) with
    that key, no Spotify id yet (one with another id is another artist) and the most ratings
    (the lowest id on a tie)."""
    keys = list(name_keys)
    raters = (
        select(Rating.artist_id, func.count().label("raters")).group_by(Rating.artist_id).subquery()
    )
    best: dict[str, tuple[int, int, Artist]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = session.execute(
            select(Artist, func.coalesce(raters.c.raters, 0))
            .outerjoin(raters, raters.c.artist_id == Artist.id)
            .where(
                Artist.name_key.in_(chunk),
                Artist.spotify_id.is_(None),
                (Artist.confirmed.is_(True)) | (Artist.added_by == viewer),
            )
        ).all()
        for artist, count in rows:
            rank = (-int(count), artist.id)
            current = best.get(artist.name_key)
            if current is None or rank < current[:2]:
                best[artist.name_key] = (*rank, artist)
    return {key: value[2] for key, value in best.items()}


def add_spotify_artist(
    session: Session,
    name: str,
    spotify_id: str,
    image_url: str | None,
    lastfm_url: str | None,
    added_by: int,
) -> Artist:
    """An artist a user's Spotify import brought: theirs (and their fellow listeners') alone
    until enough listeners or the operator confirm it, like one added by hand."""
    artist = Artist(
        name=name,
        name_key=fold_name(name),
        lastfm_url=lastfm_url,
        spotify_id=spotify_id,
        image_url=image_url,
        added_by=added_by,
        confirmed=False,
    )
    session.add(artist)
    session.flush()
    return artist
