"""A user's "not for me" artists: at most one row per user and artist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session, joinedload

from musicrec.db.dialect import upsert_insert
from musicrec.db.models import Dislike
from musicrec.db.types import utcnow


def disliked_artist_ids(session: Session, user_id: int) -> set[int]:
    rows = session.execute(select(Dislike.artist_id).where(Dislike.user_id == user_id))
    return set(rows.scalars())


def user_dislikes(session: Session, user_id: int) -> list[Dislike]:
    """The user's dislikes with their artists, newest first."""
    return list(
        session.execute(
            select(Dislike)
            .options(joinedload(Dislike.artist))
            .where(Dislike.user_id == user_id)
            .order_by(Dislike.created_at.desc(), Dislike.id.desc())
        ).scalars()
    )


def add_dislikes(session: Session, user_id: int, artist_ids: Iterable[int]) -> set[int]:
    """Mark the artists "not for me" in one statement; returns the ids newly marked (one
    marked already, by this or a concurrent request, is left as it is)."""
    now = utcnow()
    rows = [{"user_id": user_id, "artist_id": a, "created_at": now} for a in set(artist_ids)]
    if not rows:
        return set()
    statement = (
        upsert_insert(session, Dislike)
        .on_conflict_do_nothing(index_elements=["user_id", "artist_id"])
        .returning(Dislike.artist_id)
    )
    return set(session.execute(statement, rows).scalars())


def delete_dislike(session: Session, user_id: int, artist_id: int) -> bool:
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(Dislike).where(Dislike.user_id == user_id, Dislike.artist_id == artist_id)
    )
    return bool(result.rowcount)
