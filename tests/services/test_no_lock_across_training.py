"""A training job holds no transaction while it trains: the ratings are read in a short one.

The job's progress report (called after each ALS sweep) pauses the training; meanwhile the
database is asked whether any connection holds a transaction (on SQLite a read snapshot keeps
the WAL from being checkpointed; on PostgreSQL an old snapshot holds back vacuum) and another
user's rating is written.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine, insert

from musicrec.config import Settings
from musicrec.db.models import Artist, Rating, User
from musicrec.db.session import transaction
from musicrec.services.job_running import JobContext, run_training
from tests.web.lock_probes import WRITER_BUDGET_S, open_transactions, timed


def seed(engine: Engine, users: int = 30, artists: int = 20) -> tuple[int, int]:
    """Ratings to train on; returns a user and an artist for a later write."""
    with engine.begin() as connection:
        artist_ids = [
            connection.execute(
                insert(Artist).values(name=f"a{n}", name_key=f"a{n}").returning(Artist.id)
            ).scalar_one()
            for n in range(artists)
        ]
        user_ids = [
            connection.execute(
                insert(User).values(username=f"u{n}", username_key=f"u{n}").returning(User.id)
            ).scalar_one()
            for n in range(users)
        ]
        for user in user_ids:
            for position, artist in enumerate(artist_ids[: 5 + user % 10]):
                connection.execute(
                    insert(Rating).values(
                        user_id=user, artist_id=artist, rating=1 + position % 10, source="lastfm"
                    )
                )
    return user_ids[-1], artist_ids[-1]


def test_a_training_holds_no_transaction_while_it_trains(
    db_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    user, artist = seed(db_engine)
    training, resume = threading.Event(), threading.Event()

    def progress(done: float) -> None:
        if done > 0.05 and not training.is_set():  # after the first sweep
            training.set()
            assert resume.wait(30)

    def rate() -> None:
        with transaction(db_engine) as session:
            session.execute(
                insert(Rating).values(user_id=user, artist_id=artist, rating=3, source="manual")
            )

    outcome: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: outcome.update(
            run_training(JobContext(db_engine, settings, progress), {"iterations": 3})
        )
    )
    thread.start()
    try:
        assert training.wait(60)
        held = open_transactions(db_engine)
        seconds = timed(rate)
    finally:
        resume.set()
        thread.join(timeout=60)

    assert held == 0, "a transaction stayed open across the training"
    assert seconds < WRITER_BUDGET_S, f"a rating took {seconds:.2f} s"
    assert outcome["ratings"] and outcome["version"]
