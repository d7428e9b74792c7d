"""How many listeners an artist has here: the accounts (starter listeners included) that rated
it, one rating per account and artist."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from musicrec.db.models import Rating


def listener_count(session: Session, artist_id: int) -> int:
    """Accounts that rated the artist (the ``ix_ratings_artist_id`` index answers)."""
    return int(
        session.execute(
            select(func.count()).select_from(Rating).where(Rating.artist_id == artist_id)
        ).scalar_one()
    )
