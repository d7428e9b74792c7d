"""Spellings of shared artists proposed by listeners, and renames once enough agree.

A Spotify import that spells a shared artist differently (case, accents: "Sigur Rós" for the
starter data's "Sigur Ros") records the user's proposal; one user never renames a shared
artist (issue 18's rule), but a spelling that enough distinct users propose becomes its name.
Only a spelling that folds to the artist's ``name_key`` is ever applied, so no group of
accounts can rename an artist to another name. Each step is one statement per 500 artists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import CursorResult, case, func, select, update
from sqlalchemy.orm import Session

from musicrec.db.dialect import upsert_insert
from musicrec.db.models import Artist, ArtistSpelling
from musicrec.db.types import utcnow
from musicrec.names import fold_name

CHUNK = 500  # artists per statement: bounds the IN lists and the bound parameters


def record_proposals(session: Session, user_id: int, spellings: Mapping[int, str]) -> None:
    """Record the user's spelling of each artist (artist id -> spelling): an upsert, the user's
    newer proposal replacing theirs (and its time: when they last proposed it changed)."""
    table = ArtistSpelling.__table__
    now = utcnow()
    rows = [
        {"artist_id": artist_id, "user_id": user_id, "spelling": spelling, "created_at": now}
        for artist_id, spelling in spellings.items()
    ]
    for start in range(0, len(rows), CHUNK):
        statement = upsert_insert(session, table).values(rows[start : start + CHUNK])
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.artist_id, table.c.user_id],
                set_={"spelling": statement.excluded.spelling, "created_at": now},
                where=table.c.spelling != statement.excluded.spelling,
            )
        )


def agreed_spellings(session: Session, artist_ids: Iterable[int], voters: int) -> dict[int, str]:
    """For these confirmed artists, the spelling at least ``voters`` distinct users proposed
    that folds to the artist's ``name_key`` (several: the most votes, then the smallest in code
    point order, the same on both databases), by artist id; it may be the current name."""
    ids = list(artist_ids)
    votes = func.count()  # the key (artist_id, user_id): one row per user
    best: dict[int, tuple[int, str]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(ArtistSpelling.artist_id, ArtistSpelling.spelling, votes, Artist.name_key)
            .join(Artist, Artist.id == ArtistSpelling.artist_id)
            .where(
                ArtistSpelling.artist_id.in_(ids[start : start + CHUNK]),
                Artist.confirmed.is_(True),
            )
            .group_by(ArtistSpelling.artist_id, ArtistSpelling.spelling, Artist.name_key)
            .having(votes >= voters)
        )
        for artist_id, spelling, count, name_key in rows:
            if fold_name(spelling) != name_key:
                continue  # another name, never applied however many propose it
            rank = (-int(count), spelling)
            if artist_id not in best or rank < best[artist_id]:
                best[artist_id] = rank
    return {artist_id: spelling for artist_id, (_votes, spelling) in best.items()}


def apply_agreed(session: Session, artist_ids: Iterable[int], voters: int) -> int:
    """Rename each of these confirmed artists to its agreed spelling (``agreed_spellings``)
    where that differs from its name, counting the rename in ``renames``; how many changed."""
    agreed = agreed_spellings(session, artist_ids, voters)
    ids = sorted(agreed)
    renamed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = {artist_id: agreed[artist_id] for artist_id in ids[start : start + CHUNK]}
        spelled = case(chunk, value=Artist.id)
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(Artist)
            .where(Artist.id.in_(chunk), Artist.name != spelled)
            .values(name=spelled, renames=Artist.renames + 1)
            .execution_options(synchronize_session="fetch")
        )
        renamed += int(result.rowcount)
    return renamed
