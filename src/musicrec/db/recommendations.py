"""Stored recommendations: unique per user and artist, so none is ever shown as new twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session, joinedload

from musicrec.db.dialect import dialect_insert, dialect_name
from musicrec.db.models import Dislike, Rating, Recommendation
from musicrec.db.types import utcnow


@dataclass(frozen=True)
class NewRecommendation:
    artist_id: int
    score: float
    because: tuple[int, ...] = ()


def recommended_artist_ids(session: Session, user_id: int) -> set[int]:
    rows = session.execute(
        select(Recommendation.artist_id).where(Recommendation.user_id == user_id)
    ).scalars()
    return set(rows)


@dataclass(frozen=True)
class UserHistory:
    """What a new batch for a user starts from: their ratings, who was recommended before and
    who they marked "not for me"."""

    rated: list[int]
    ratings: list[int]
    recommended: set[int]
    disliked: set[int]


# Statements on the path of every new batch are built once: a reused statement object keeps
# its cache key (SQLAlchemy memoises it), so a request only binds its parameters.
_HISTORY = union_all(
    select(Rating.artist_id, Rating.rating).where(Rating.user_id == bindparam("user_id")),
    select(Recommendation.artist_id, literal(0)).where(
        Recommendation.user_id == bindparam("user_id")
    ),
    select(Dislike.artist_id, literal(-1)).where(Dislike.user_id == bindparam("user_id")),
)


def user_history(session: Session, user_id: int) -> UserHistory:
    """The user's ratings, past recommendations and dislikes, in one round trip (a UNION ALL)."""
    rows = session.execute(_HISTORY, {"user_id": user_id}).all()
    history = UserHistory([], [], set(), set())
    for artist_id, rating in rows:
        if rating > 0:  # ratings are 1..10; 0 marks a past recommendation, -1 a dislike
            history.rated.append(artist_id)
            history.ratings.append(rating)
        elif rating == 0:
            history.recommended.add(artist_id)
        else:
            history.disliked.add(artist_id)
    return history


def add_recommendations(
    session: Session,
    user_id: int,
    items: Sequence[NewRecommendation],
    model_version: str,
    created_at: datetime | None = None,
    first_position: int = 0,
) -> set[int]:
    """Store the items in one statement; returns the artist ids stored. An artist already
    recommended to the user (a concurrent request stored it first) is skipped, not an error.
    Rows stored with the same ``created_at`` form one batch in the user's history, in the
    order given (best first): the items take positions ``first_position``, +1, ... in it."""
    if not items:
        return set()
    now = created_at or utcnow()
    rows = [
        {
            "user_id": user_id,
            "artist_id": item.artist_id,
            "score": item.score,
            "model_version": model_version,
            "because": list(item.because),
            "created_at": now,
            "position": first_position + offset,
        }
        for offset, item in enumerate(items)
    ]
    # One statement for all rows (insertmanyvalues), compiled once and cached: the parameters
    # go separately, not into the statement's text.
    return set(session.execute(_store_statement(dialect_name(session)), rows).scalars())


@cache
def _store_statement(dialect: str) -> Any:
    """The INSERT that skips an artist already recommended to the user, built once per
    database kind (a reused statement keeps its cache key). A Core insert on the table: the
    ORM's bulk path adds nothing here but time."""
    table = Recommendation.__table__
    return (
        dialect_insert(dialect, table)
        .on_conflict_do_nothing(index_elements=["user_id", "artist_id"])
        .returning(table.c.artist_id)
    )


def user_recommendations(session: Session, user_id: int) -> list[Recommendation]:
    """Every recommendation made to the user, newest batch first, each in its stored order."""
    return list(
        session.execute(
            select(Recommendation)
            .options(joinedload(Recommendation.artist))
            .where(Recommendation.user_id == user_id)
            .order_by(
                Recommendation.created_at.desc(),
                Recommendation.position,
                Recommendation.id,
            )
        ).scalars()
    )


def newest_artist_ids(session: Session, user_id: int, limit: int) -> list[int]:
    """The artists of the user's newest batch of recommendations (stored together), in the
    order they were shown."""
    newest = (
        select(func.max(Recommendation.created_at))
        .where(Recommendation.user_id == user_id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Recommendation.artist_id)
        .where(Recommendation.user_id == user_id, Recommendation.created_at == newest)
        .order_by(Recommendation.position, Recommendation.id)
        .limit(limit)
    ).scalars()
    return list(rows)


def batch_times(session: Session, user_id: int, offset: int, limit: int) -> list[datetime]:
    """When each batch of the user's recommendations was made, newest first, one page."""
    return list(
        session.execute(
            select(Recommendation.created_at)
            .where(Recommendation.user_id == user_id)
            .group_by(Recommendation.created_at)
            .order_by(Recommendation.created_at.desc())
            .offset(offset)
            .limit(limit)
        ).scalars()
    )


def count_batches(session: Session, user_id: int) -> int:
    """How many batches of recommendations the user was given."""
    distinct = (
        select(Recommendation.created_at)
        .where(Recommendation.user_id == user_id)
        .group_by(Recommendation.created_at)
        .subquery()
    )
    return int(session.execute(select(func.count()).select_from(distinct)).scalar_one())


def recommendations_made_at(
    session: Session, user_id: int, times: Sequence[datetime]
) -> list[Recommendation]:
    """The user's recommendations of these batches, newest batch first, each in its stored
    order."""
    if not times:
        return []
    return list(
        session.execute(
            select(Recommendation)
            .options(joinedload(Recommendation.artist))
            .where(Recommendation.user_id == user_id, Recommendation.created_at.in_(times))
            .order_by(
                Recommendation.created_at.desc(),
                Recommendation.position,
                Recommendation.id,
            )
        ).scalars()
    )
