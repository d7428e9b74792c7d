"""Migration 0014 gives every stored recommendation its position in its batch: by score, best
first, within the same user and ``created_at``, ties by id (the order the history showed)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from musicrec.db import migrate
from musicrec.db.session import make_engine

USERS = "INSERT INTO users (id, username, username_key, created_at) VALUES (:id, :n, :n, :at)"
ARTISTS = "INSERT INTO artists (id, name, name_key, created_at) VALUES (:id, :n, :n, :at)"
RECOMMENDATION = (
    "INSERT INTO recommendations (id, user_id, artist_id, score, model_version, created_at)"
    " VALUES (:id, :user, :artist, :score, 'v1', :at)"
)
EARLY, LATE = "2026-01-01 10:00:00", "2026-01-02 10:00:00"
# (id, user, artist, score, created_at): two batches of user 1, one of user 2, a tie.
ROWS = [
    (1, 1, 1, 0.2, EARLY),
    (2, 1, 2, 0.9, EARLY),
    (3, 1, 3, 0.5, EARLY),
    (4, 1, 4, 0.1, LATE),
    (5, 1, 5, 0.7, LATE),
    (6, 2, 1, 0.3, EARLY),
    (7, 2, 2, 0.3, EARLY),
    (8, 2, 3, 0.8, EARLY),
]


def _positions(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, position FROM recommendations"))
        return {row_id: position for row_id, position in rows}


def test_existing_recommendations_get_their_position_by_score_within_their_batch(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0013")
        with engine.begin() as connection:
            for user in (1, 2):
                connection.execute(text(USERS), {"id": user, "n": f"u{user}", "at": EARLY})
            for artist in range(1, 6):
                connection.execute(text(ARTISTS), {"id": artist, "n": f"a{artist}", "at": EARLY})
            for row_id, user, artist, score, at in ROWS:
                connection.execute(
                    text(RECOMMENDATION),
                    {"id": row_id, "user": user, "artist": artist, "score": score, "at": at},
                )

        migrate.upgrade(engine, "0014")

        assert _positions(engine) == {1: 2, 2: 0, 3: 1, 4: 1, 5: 0, 6: 1, 7: 2, 8: 0}
        migrate.downgrade(engine, "0013")
        migrate.upgrade(engine, "0014")  # down and up again: the same positions
        assert _positions(engine)[1] == 2
    finally:
        engine.dispose()
