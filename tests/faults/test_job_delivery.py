"""Jobs that never stall or run twice (issue 19).

- A job whose queue message was lost (the row committed, the message gone) is sent again by the
  worker within a minute, and failed with a visible reason when the queue keeps losing it: it
  would otherwise stay ``queued`` and, through the one-active-training index, block every
  later training.
- A worker that cannot write its heartbeat stops its job before anyone may take it back, and
  proves it owns the job before publishing: the job taken back and run again publishes once.
- A ValueError from NumPy (a singular system in an explicit ALS solve) is an internal error:
  a reference for the user, the traceback in the log. Our own refusals keep their words.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import job_rows
from musicrec.db.models import Artist, Job, Rating, User
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.engine.artifacts import ModelStore
from musicrec.services import jobs
from musicrec.services.job_running import (
    MAX_DELIVERIES,
    reap_lost_jobs,
    redeliver_lost_jobs,
    run_job,
)
from musicrec.services.queue import JobQueue
from tests.factories import seed_two_tastes

pytestmark = [pytest.mark.fault]

LOST_WITHIN = 60.0  # seconds: the bound for a lost message
# Explicit ALS sweeps on the small data take about a millisecond each: a few seconds' training.
SLOW_TRAINING = {"kind": "explicit", "factors": 8, "iterations": 3000}
REFUSE_HEARTBEATS = {
    "sqlite": [
        "CREATE TRIGGER refuse_heartbeats BEFORE UPDATE OF heartbeat_at ON jobs "
        "WHEN OLD.state = 'running' AND NEW.state = 'running' "
        "BEGIN SELECT RAISE(ABORT, 'heartbeat refused by the test'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_heartbeats() RETURNS trigger AS $$ BEGIN "
        "IF OLD.state = 'running' AND NEW.state = 'running' THEN "
        "RAISE EXCEPTION 'heartbeat refused by the test'; END IF; RETURN NEW; END $$ "
        "LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_heartbeats BEFORE UPDATE ON jobs "
        "FOR EACH ROW EXECUTE FUNCTION refuse_heartbeats()",
    ],
}
ALLOW_HEARTBEATS = {
    "sqlite": ["DROP TRIGGER refuse_heartbeats"],
    "postgresql": [
        "DROP TRIGGER refuse_heartbeats ON jobs",
        "DROP FUNCTION refuse_heartbeats()",
    ],
}


def _job(engine: Engine, job_id: int) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _execute(engine: Engine, statements: list[str]) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


@pytest.fixture
def start_worker(settings_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], None]]:
    """Starts ``musicrec worker`` as a real process on the test's database and queue."""
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        log = (tmp_path / "worker.log").open("wb")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "musicrec", "worker", "--poll-seconds", "0.2"],
                env={**os.environ, **settings_env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.slow
def test_a_job_whose_message_was_lost_is_run_within_a_minute(
    db_engine: Engine, settings: Settings, start_worker: Callable[[], None]
) -> None:
    seed_two_tastes(db_engine)
    queue = JobQueue(settings)
    with transaction(db_engine) as session:
        job = jobs.queue_training(
            session, queue, reason="test", params={"factors": 4, "iterations": 2}
        )
    # The message went nowhere (a Redis failover, a queue file restored from a backup): the
    # row says queued, and no message will ever make a worker claim it.
    queue.huey.flush()
    start_worker()

    waited = _wait_for(
        lambda: _job(db_engine, job.id).state in ("done", "failed"), LOST_WITHIN, "the lost job"
    )

    done = _job(db_engine, job.id)
    assert done.state == "done", done.error
    assert done.deliveries == 2 and waited < LOST_WITHIN
    assert ModelStore(settings.model_dir).versions() == [done.result["version"]]  # type: ignore[index]


def test_a_job_the_queue_keeps_losing_is_failed_visibly_and_frees_the_training_slot(
    db_engine: Engine, settings: Settings
) -> None:
    queue = JobQueue(settings)
    with transaction(db_engine) as session:
        job = jobs.queue_training(session, queue, reason="test")
    clock = utcnow()
    for _ in range(MAX_DELIVERIES + 1):
        queue.huey.flush()  # every message sent is lost
        clock += timedelta(minutes=1)
        redeliver_lost_jobs(db_engine, queue, now=clock)

    failed = _job(db_engine, job.id)
    assert failed.state == "failed"
    assert failed.error is not None and "queue it again" in failed.error
    assert failed.deliveries == MAX_DELIVERIES
    with transaction(db_engine) as session:  # the next training is not blocked
        assert jobs.queue_training(session, queue, reason="test").state == "queued"


def test_a_queued_job_whose_message_waits_is_not_sent_again(
    db_engine: Engine, settings: Settings
) -> None:
    queue = JobQueue(settings)
    with transaction(db_engine) as session:
        job = jobs.queue_training(session, queue, reason="test")

    resent = redeliver_lost_jobs(db_engine, queue, now=utcnow() + timedelta(minutes=5))

    assert resent == [] and queue.pending() == 1
    assert _job(db_engine, job.id).deliveries == 1


def test_a_worker_whose_heartbeat_writes_fail_never_causes_a_second_publish(
    db_engine: Engine, settings: Settings
) -> None:
    seed_two_tastes(db_engine)
    with transaction(db_engine) as session:
        job = job_rows.add_job(session, "train", reason="test", params=SLOW_TRAINING)
    _execute(db_engine, REFUSE_HEARTBEATS[db_engine.dialect.name])
    first: list[str | None] = []
    runner = threading.Thread(
        target=lambda: first.append(run_job(db_engine, settings, job.id, heartbeat_seconds=0.5))
    )
    runner.start()
    _wait_for(lambda: _job(db_engine, job.id).state == "running", 30, "the first run")
    time.sleep(1.0)  # its heartbeat is older than the (shortened) stale limit: taken back

    taken = reap_lost_jobs(db_engine, _Sent(), stale_after=timedelta(seconds=0.5))
    _execute(db_engine, ALLOW_HEARTBEATS[db_engine.dialect.name])
    second = run_job(db_engine, settings, job.id, heartbeat_seconds=0.5)
    runner.join(timeout=120)

    done = _job(db_engine, job.id)
    assert ModelStore(settings.model_dir).versions() == [done.result["version"]]  # type: ignore[index]
    assert taken == [job.id]
    assert first == ["lost"] and second == "done"
    assert (done.state, done.attempts) == ("done", 2)


def test_a_run_whose_job_was_taken_back_records_no_outcome(
    db_engine: Engine, settings: Settings
) -> None:
    """The fencing token: the same worker name, a newer attempt; the older run's writes miss."""
    with transaction(db_engine) as session:
        job = job_rows.add_job(session, "train", reason="test")
        session.flush()
        first = job_rows.claim(session, job.id, "host-1")
        assert first is not None
        assert job_rows.take_back(session, job.id, "host-1", retry=True, error="lost")
        second = job_rows.claim(session, job.id, "host-1")
        assert second == first + 1

        assert not job_rows.record_progress(session, job.id, "host-1", 0.5, attempt=first)
        assert not job_rows.finish(session, job.id, "host-1", result={}, attempt=first)
        assert job_rows.finish(session, job.id, "host-1", result={}, attempt=second)


class _Sent:
    """Where reaped jobs are sent (the test runs the second attempt itself)."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def send(self, job_id: int) -> None:
        self.ids.append(job_id)


def _few_ratings_each(engine: Engine) -> None:
    """Users with 3 ratings each: with 8 factors and no regularisation, explicit ALS meets a
    singular system (NumPy raises LinAlgError, a ValueError)."""
    with engine.begin() as connection:
        artists = [
            connection.execute(
                insert(Artist).values(name=f"A{n}", name_key=f"a{n}").returning(Artist.id)
            ).scalar_one()
            for n in range(12)
        ]
        for n in range(20):
            user = connection.execute(
                insert(User).values(username=f"u{n}", username_key=f"u{n}").returning(User.id)
            ).scalar_one()
            connection.execute(
                insert(Rating),
                [
                    {"user_id": user, "artist_id": artists[(n + k) % 12], "rating": 1 + (n + k) % 9}
                    for k in range(3)
                ],
            )


def test_a_numpy_value_error_is_an_internal_error_with_a_traceback(
    db_engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _few_ratings_each(db_engine)
    with transaction(db_engine) as session:
        job = job_rows.add_job(
            session,
            "train",
            reason="test",
            params={"kind": "explicit", "factors": 8, "regularization": 0.0, "iterations": 2},
        )

    with caplog.at_level(logging.INFO, logger="musicrec.jobs"):
        state = run_job(db_engine, settings, job.id)

    failed = _job(db_engine, job.id)
    assert state == "failed"
    assert (
        failed.error
        == f"The training failed because of an internal error (reference #job-{job.id})."
    )
    logged = [r for r in caplog.records if f"#job-{job.id}" in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "LinAlgError" in caplog.text and "Singular matrix" in caplog.text


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"kind": "explicit", "alpha": 2}, "unknown parameter(s) for explicit ALS: alpha"),
        ({"factors": 4}, "There are no ratings to train on"),
    ],
)
def test_our_own_refusals_keep_their_words(
    db_engine: Engine, settings: Settings, params: dict[str, object], words: str
) -> None:
    with transaction(db_engine) as session:
        job = job_rows.add_job(session, "train", reason="test", params=params)

    assert run_job(db_engine, settings, job.id) == "failed"
    error = _job(db_engine, job.id).error
    assert error is not None and error.startswith("The training failed: ") and words in error
