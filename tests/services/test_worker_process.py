"""The worker as a real process (`musicrec worker`): killed with SIGKILL in the middle of a
training, it leaves the previous model serving, every rating in place and the job not stuck
"running": the next worker takes it back and runs it again to the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db.models import Job, Rating
from musicrec.db.session import transaction
from musicrec.engine.artifacts import ModelStore
from musicrec.services import jobs
from musicrec.services.model_loader import ModelLoader
from musicrec.services.queue import JobQueue
from tests.factories import seed_two_tastes, train_in_transaction

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
# Explicit ALS sweeps on the small data take well under a millisecond each: 3,000 of them were
# done in about a second, and once the training ended between the first progress write
# (every 0.5 s) and the kill; 30,000 keep it under way for several seconds.
SLOW_TRAINING = {"kind": "explicit", "factors": 8, "iterations": 30_000}


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _job(engine: Engine, job_id: int) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _rating_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(Rating)).scalar_one()


@pytest.fixture
def start_worker(settings_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], Any]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "musicrec", "worker", "--poll-seconds", "0.2"],
            env={**os.environ, **settings_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_a_worker_killed_mid_training_loses_nothing_and_the_job_is_run_again(
    db_engine: Engine, settings: Settings, start_worker: Callable[[], Any]
) -> None:
    seed_two_tastes(db_engine)
    previous = train_in_transaction(db_engine, settings.model_dir, factors=4, iterations=2)
    ratings_before = _rating_count(db_engine)
    with transaction(db_engine) as session:
        job = jobs.queue_training(session, JobQueue(settings), reason="test", params=SLOW_TRAINING)
    worker = start_worker()
    _wait_for(lambda: _job(db_engine, job.id).progress > 0.1, 60, "the training to be under way")

    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)

    stuck = _job(db_engine, job.id)
    assert (stuck.state, stuck.attempts) == ("running", 1) and stuck.progress < 1
    assert ModelStore(settings.model_dir).versions() == [previous.version]
    served = ModelLoader(settings.model_dir).current()
    assert served is not None and served.version == previous.version
    assert _rating_count(db_engine) == ratings_before

    start_worker()  # takes back the job its dead predecessor left running, and runs it again
    _wait_for(lambda: _job(db_engine, job.id).state == "done", 90, "the job to be run again")

    done = _job(db_engine, job.id)
    assert done.attempts == 2 and done.result is not None
    assert ModelStore(settings.model_dir).versions()[0] == done.result["version"]
    assert _rating_count(db_engine) == ratings_before
