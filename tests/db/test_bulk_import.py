"""Staged bulk merges into artists, users and ratings, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from musicrec.db import bulk_import, ratings
from musicrec.db.bulk_import import MergeCounts, StagedRows
from musicrec.db.models import Artist, Rating, User

NOW = datetime(2030, 1, 1, tzinfo=UTC)
ARTISTS = [(101, "Air", "air", None), (102, "Björk", "bjork", "https://www.last.fm/music/Bj")]
USERS = [(7, "lastfm:7"), (8, "lastfm:8")]
RATINGS = [(7, 101, 9, 300), (7, 102, 4, 20), (8, 102, 10, 900)]


def _merge(session: Session, **rows: list[tuple[object, ...]]) -> MergeCounts:
    staged = StagedRows(
        artists=rows.get("artists", ARTISTS),
        users=rows.get("users", USERS),
        ratings=rows.get("ratings", RATINGS),
    )
    return bulk_import.merge_rows(session, staged, source="lastfm", now=NOW)


def _ratings(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(
        select(User.lastfm_id, Artist.lastfm_id, Rating.rating, Rating.listens, Rating.source)
        .join(User, User.id == Rating.user_id)
        .join(Artist, Artist.id == Rating.artist_id)
        .order_by(User.lastfm_id, Artist.lastfm_id)
    )
    return [tuple(row) for row in rows]


def test_merge_inserts_every_row(session: Session) -> None:
    counts = _merge(session)

    assert counts == MergeCounts(artists=2, users=2, ratings=3)
    assert _ratings(session) == [
        (7, 101, 9, 300, "lastfm"),
        (7, 102, 4, 20, "lastfm"),
        (8, 102, 10, 900, "lastfm"),
    ]
    artist_rows = session.execute(
        select(Artist.lastfm_id, Artist.name, Artist.name_key, Artist.lastfm_url).order_by(
            Artist.lastfm_id
        )
    )
    assert [tuple(row) for row in artist_rows] == ARTISTS
    user_rows = session.execute(
        select(User.lastfm_id, User.username, User.username_key, User.password_hash).order_by(
            User.lastfm_id
        )
    )
    assert [tuple(row) for row in user_rows] == [
        (7, "lastfm:7", "lastfm:7", None),
        (8, "lastfm:8", "lastfm:8", None),
    ]


def test_merging_the_same_rows_again_changes_nothing(session: Session) -> None:
    _merge(session)
    before = _ratings(session)

    assert _merge(session) == MergeCounts(artists=0, users=0, ratings=0)
    assert _ratings(session) == before


def test_merge_updates_only_what_changed(session: Session) -> None:
    _merge(session)
    renamed = [ARTISTS[0], (102, "Bjørk", "bjørk", ARTISTS[1][3])]
    listens = [(7, 101, 9, 300), (7, 102, 5, 25), (8, 102, 10, 900), (8, 101, 1, 1)]

    counts = _merge(session, artists=renamed, ratings=listens)

    assert counts == MergeCounts(artists=1, users=0, ratings=2)
    assert _ratings(session) == [
        (7, 101, 9, 300, "lastfm"),
        (7, 102, 5, 25, "lastfm"),
        (8, 101, 1, 1, "lastfm"),
        (8, 102, 10, 900, "lastfm"),
    ]
    assert session.execute(select(Artist.name).where(Artist.lastfm_id == 102)).scalar_one() == (
        "Bjørk"
    )


def test_merge_never_overwrites_a_rating_from_another_source(session: Session) -> None:
    _merge(session)
    user_id = session.execute(select(User.id).where(User.lastfm_id == 7)).scalar_one()
    artist_id = session.execute(select(Artist.id).where(Artist.lastfm_id == 101)).scalar_one()
    ratings.set_rating(session, user_id, artist_id, 2, source="manual")

    counts = _merge(session)

    assert counts.ratings == 0
    assert _ratings(session)[0] == (7, 101, 2, 300, "manual")


def test_merge_reports_rows_staged_as_they_go(session: Session) -> None:
    seen: list[int] = []
    staged = StagedRows(artists=iter(ARTISTS), users=iter(USERS), ratings=iter(RATINGS))

    bulk_import.merge_rows(session, staged, source="lastfm", now=NOW, on_rows=seen.append)

    assert seen == [2, 2, 3]


def test_an_import_is_recorded_by_fingerprint(session: Session) -> None:
    assert bulk_import.import_recorded(session, "f" * 64) is False

    bulk_import.record_import(
        session,
        source="lastfm",
        fingerprint="f" * 64,
        location="/data",
        users=2,
        artists=2,
        ratings=3,
        imported_at=NOW,
    )

    assert bulk_import.import_recorded(session, "f" * 64) is True
    assert bulk_import.import_recorded(session, "0" * 64) is False


def test_staging_tables_are_gone_after_a_merge(session: Session) -> None:
    _merge(session)

    tables = set(session.connection().dialect.get_temp_table_names(session.connection()))
    assert tables.isdisjoint(bulk_import.STAGING_TABLES)
