"""The request-scoped database session, closed when the request ends."""

from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

READ_MOSTLY_ENGINE = "musicrec.read_mostly_engine"

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def db_session() -> Session:
    """The request's session; a GET or HEAD one reads without taking SQLite's write lock."""
    if "db_session" not in g:
        sessions = current_app.extensions["musicrec.sessions"]
        if request.method in READ_METHODS:
            g.db_session = sessions(bind=current_app.extensions[READ_MOSTLY_ENGINE])
        else:
            g.db_session = sessions()
    session: Session = g.db_session
    return session


def database() -> Engine:
    """The app's engine, for work that opens its own short transactions."""
    engine: Engine = current_app.extensions["musicrec.engine"]
    return engine


def end_transaction() -> None:
    """Commit what the request's session holds (the token check's bookkeeping), ending its
    transaction before slow work: a network call or a password hash. On SQLite a non-GET
    request's transaction holds the database-wide write lock; on PostgreSQL a connection would
    sit idle in a transaction. The next statement begins a new, short, transaction."""
    session = g.get("db_session")
    if session is not None:
        session.commit()
