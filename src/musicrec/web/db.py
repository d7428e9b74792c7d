"""The request-scoped database session, closed when the request ends."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["musicrec.sessions"]()
    session: Session = g.db_session
    return session
