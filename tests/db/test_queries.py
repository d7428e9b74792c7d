"""Read-only queries shared by services and pages."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from musicrec.db import artists, queries, ratings, users
from musicrec.db.queries import CatalogueCounts


def test_catalogue_counts(session: Session) -> None:
    assert queries.catalogue_counts(session) == CatalogueCounts(users=0, artists=0, ratings=0)
    ada = users.add_user(session, "ada", "ada@example.org", "hash").id
    air, _muse = (artists.add_artist(session, name, None).id for name in ("Air", "Muse"))
    ratings.set_rating(session, ada, air, 8)

    assert queries.catalogue_counts(session) == CatalogueCounts(users=1, artists=2, ratings=1)


def test_ping_says_whether_the_database_answers(session: Session, tmp_path: Path) -> None:
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing-folder' / 'db.sqlite3'}")

    with Session(unreachable) as broken:
        answered = queries.ping(broken)
    unreachable.dispose()

    assert queries.ping(session) is True
    assert answered is False
