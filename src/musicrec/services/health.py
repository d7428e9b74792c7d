"""Whether the parts the app depends on answer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from musicrec.db import queries


def database_answers(session: Session) -> bool:
    return queries.ping(session)
