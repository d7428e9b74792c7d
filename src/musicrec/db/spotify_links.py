"""Users' Spotify connections (tokens already encrypted by the caller)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from musicrec.db.models import SpotifyLink


def get_link(session: Session, user_id: int) -> SpotifyLink | None:
    return session.get(SpotifyLink, user_id)


def save_link(session: Session, user_id: int, **values: object) -> SpotifyLink:
    """Create or update the user's link with ``values`` (column names)."""
    link = session.get(SpotifyLink, user_id)
    if link is None:
        link = SpotifyLink(user_id=user_id)
        session.add(link)
    for name, value in values.items():
        setattr(link, name, value)
    session.flush()
    return link


def delete_link(session: Session, user_id: int) -> bool:
    result = session.execute(delete(SpotifyLink).where(SpotifyLink.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))
