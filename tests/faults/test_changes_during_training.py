"""Ratings changed while a training runs count towards the next training (issue 19).

The training reads its data near its start; a rating changed after that read is not in the
version it publishes, so the retraining policy must still count it once that version is the
newest (``services.scheduling`` counts ``rating_changes`` since the newest version's read).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import job_rows
from musicrec.db.models import Job, User
from musicrec.db.ratings import set_rating
from musicrec.db.session import transaction
from musicrec.services.job_running import run_job
from musicrec.services.scheduling import RetrainPolicy, retrain_reason
from tests.factories import seed_two_tastes

pytestmark = [pytest.mark.fault]

# Explicit ALS sweeps on the small data take about a millisecond each: a few seconds' training.
SLOW_TRAINING = {"kind": "explicit", "factors": 8, "iterations": 3000}
EVERY_CHANGE = RetrainPolicy(after_ratings=1, after=timedelta(0))


def _job(engine: Engine, job_id: int) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_a_rating_changed_mid_training_makes_the_next_training_due(
    db_engine: Engine, settings: Settings
) -> None:
    first_taste, second_taste = seed_two_tastes(db_engine)
    with transaction(db_engine) as session:
        job = job_rows.add_job(session, "train", reason="test", params=SLOW_TRAINING)
        listener = session.execute(select(User.id).order_by(User.id).limit(1)).scalar_one()
    states: list[str | None] = []
    runner = threading.Thread(target=lambda: states.append(run_job(db_engine, settings, job.id)))
    runner.start()
    deadline = time.monotonic() + 60
    while _job(db_engine, job.id).progress < 0.1:  # the sweeps have begun: the data was read
        assert time.monotonic() < deadline, "the training never got under way"
        time.sleep(0.05)

    with transaction(db_engine) as session:  # a listener discovers the other taste
        set_rating(session, listener, second_taste[0], 10)
    changed_while_training = _job(db_engine, job.id).state == "running"
    runner.join(timeout=120)

    assert changed_while_training and states == ["done"]
    with transaction(db_engine) as session:
        assert retrain_reason(session, settings.model_dir, EVERY_CHANGE) == "1 new ratings"
