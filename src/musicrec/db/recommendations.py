"""Stored recommendations: unique per user and artist, so none is ever shown as new twice."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    func,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, joinedload

from musicrec.db.dialect import dialect_insert, dialect_name
from musicrec.db.models import Dislike, Rating, Recommendation
from musicrec.db.types import UTCDateTime, utcnow


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


def user_history(session: Session, user_id: int) -> UserHistory:
    """The user's ratings, past recommendations and dislikes, in one round trip: one row of
    three JSON lists, so a long history costs one value to read, not a row per artist."""
    row = session.execute(_history_statement(dialect_name(session)), {"user_id": user_id}).one()
    pairs, recommended, disliked = (value or [] for value in row)
    return UserHistory(
        [artist_id for artist_id, _rating in pairs],
        [rating for _artist_id, rating in pairs],
        set(recommended),
        set(disliked),
    )


@cache
def _history_statement(dialect: str) -> Any:
    """``user_history``'s SELECT, built once per database kind (a reused statement keeps its
    cache key): PostgreSQL's json_agg, SQLite's json_group_array (NULL and '[]' for none)."""
    postgres = dialect == "postgresql"
    as_list, as_pair = (
        (func.json_agg, func.json_build_array)
        if postgres
        else (func.json_group_array, func.json_array)
    )
    user = bindparam("user_id", type_=Integer)

    def listed(value: Any, table: Any) -> Any:
        aggregate = select(as_list(value)).where(table.c.user_id == user).scalar_subquery()
        return type_coerce(aggregate, JSON)

    ratings, recommendations, dislikes = (
        Rating.__table__,
        Recommendation.__table__,
        Dislike.__table__,
    )
    return select(
        listed(as_pair(ratings.c.artist_id, ratings.c.rating), ratings),
        listed(recommendations.c.artist_id, recommendations),
        listed(dislikes.c.artist_id, dislikes),
    )


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
    if dialect_name(session) == "postgresql":
        columns = {
            "artist_ids": [item.artist_id for item in items],
            "scores": [item.score for item in items],
            "because": [json.dumps(list(item.because)) for item in items],
            "positions": [first_position + offset for offset in range(len(items))],
        }
        shared = {"user_id": user_id, "model_version": model_version, "created_at": now}
        return set(session.execute(_store_columns_statement(), columns | shared).scalars())
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
    return set(session.execute(_store_statement(), rows).scalars())


@cache
def _store_statement() -> Any:
    """SQLite's INSERT that skips an artist already recommended to the user, built once (a
    reused statement keeps its cache key). A Core insert on the table: the ORM's bulk path
    adds nothing here but time."""
    table = Recommendation.__table__
    return (
        dialect_insert("sqlite", table)
        .on_conflict_do_nothing(index_elements=["user_id", "artist_id"])
        .returning(table.c.artist_id)
    )


@cache
def _store_columns_statement() -> Any:
    """PostgreSQL's: the batch as one array per column, unnested into rows, so the statement
    and its 7 parameters are the same for any batch size. (Rows of parameters, 7 per
    artist, are over psycopg's limit for caching a statement's parsing: every request
    parsed it again.)"""
    table = Recommendation.__table__
    rows = (
        func.unnest(
            bindparam("artist_ids", type_=ARRAY(Integer)),
            bindparam("scores", type_=ARRAY(Float)),
            bindparam("because", type_=ARRAY(Text)),
            bindparam("positions", type_=ARRAY(Integer)),
        )
        .table_valued("artist_id", "score", "because", "position")
        .render_derived(name="batch")
    )
    chosen = select(
        bindparam("user_id", type_=Integer),
        rows.c.artist_id,
        rows.c.score,
        bindparam("model_version", type_=String),
        cast(rows.c.because, JSON),
        bindparam("created_at", type_=UTCDateTime),
        rows.c.position,
    )
    names = ["user_id", "artist_id", "score", "model_version", "because", "created_at"]
    return (
        dialect_insert("postgresql", table)
        .from_select([*names, "position"], chosen)
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
