"""The retraining check counts real changes to the trainable ratings, never unchanged data,
and no user can make it train more than once per ``min_gap``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from musicrec.db import ratings as rating_rows
from musicrec.db import users
from musicrec.db.models import Job, Rating
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.services.scheduling import RetrainPolicy, maybe_queue_training, retrain_reason
from tests.factories import seed_two_tastes, train_in_transaction

BY_COUNT = RetrainPolicy(after_ratings=3, after=timedelta(0))


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, job_id: int) -> None:
        self.sent.append(job_id)


def _trained(db_engine: Engine, tmp_path: Path) -> Path:
    seed_two_tastes(db_engine)
    models = tmp_path / "models"
    train_in_transaction(db_engine, models, factors=4, iterations=2)
    return models


def _some_ratings(db_engine: Engine, count: int) -> list[tuple[int, int, int]]:
    with Session(db_engine) as session:
        rows = session.execute(
            select(Rating.user_id, Rating.artist_id, Rating.rating).order_by(Rating.id).limit(count)
        ).all()
    return [(user, artist, value) for user, artist, value in rows]


def _reason(db_engine: Engine, models: Path, policy: RetrainPolicy = BY_COUNT) -> str | None:
    with Session(db_engine) as session:
        return retrain_reason(session, models, policy)


def test_ratings_set_again_to_their_value_never_queue_a_training(
    db_engine: Engine, tmp_path: Path
) -> None:
    models = _trained(db_engine, tmp_path)

    for _ in range(3):
        with transaction(db_engine) as session:
            for user, artist, value in _some_ratings(db_engine, 20):
                rating_rows.set_rating(session, user, artist, value)

    assert _reason(db_engine, models) is None


def test_a_rating_changed_and_changed_back_never_queues_a_training(
    db_engine: Engine, tmp_path: Path
) -> None:
    models = _trained(db_engine, tmp_path)
    rows = _some_ratings(db_engine, 3)

    for shift in (1, 0):
        with transaction(db_engine) as session:
            for user, artist, value in rows:
                rating_rows.set_rating(session, user, artist, value % 10 + shift)

    assert _reason(db_engine, models) is None


def test_deleted_ratings_and_deleted_accounts_count_towards_retraining(
    db_engine: Engine, tmp_path: Path
) -> None:
    models = _trained(db_engine, tmp_path)
    (first, artist, _value), *others = _some_ratings(db_engine, 40)

    with transaction(db_engine) as session:
        assert rating_rows.delete_rating(session, first, artist)
    one_deletion = _reason(db_engine, models, RetrainPolicy(after_ratings=1, after=timedelta(0)))
    leaving = next(user for user, _a, _v in others if user != first)
    with transaction(db_engine) as session:
        users.delete_user(session, leaving)  # its ratings go by ON DELETE CASCADE
    with_account = _reason(db_engine, models)

    assert one_deletion == "1 new ratings"
    assert with_account is not None and with_account.endswith("new ratings")
    assert int(with_account.split()[0]) > 3


def test_no_one_causes_more_than_one_automatic_training_per_gap(
    db_engine: Engine, tmp_path: Path
) -> None:
    """A day of someone changing a rating every ten minutes: at most 24 h / 4 h trainings."""
    models = _trained(db_engine, tmp_path)
    user, artist, value = _some_ratings(db_engine, 1)[0]
    policy = RetrainPolicy(after_ratings=1, after=timedelta(hours=1), min_gap=timedelta(hours=4))
    sender = RecordingSender()
    start = utcnow()

    for tick in range(24 * 6):
        now = start + timedelta(minutes=10 * tick)
        with transaction(db_engine) as session:
            rating_rows.set_rating(session, user, artist, (value + 1 + tick % 2) % 10 + 1)
        with transaction(db_engine) as session:
            job = maybe_queue_training(session, sender, models, policy, now)
        if job is not None:  # the worker trains it (the data stays changed: never enough)
            with transaction(db_engine) as session:
                session.execute(
                    update(Job).where(Job.id == job.id).values(state="done", created_at=now)
                )

    assert 1 <= len(sender.sent) <= 6
