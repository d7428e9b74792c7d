"""Jobs: queueing, running with progress, failures, taking back jobs whose worker died, the
retraining policy (never two trainings at once), and the task queue on SQLite and Redis."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import job_rows
from musicrec.db.models import Job, Rating, User
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.engine.artifacts import ModelStore
from musicrec.services import job_running, jobs
from musicrec.services.errors import Conflict, NotFound
from musicrec.services.model_loader import ModelLoader
from musicrec.services.queue import JobQueue
from musicrec.services.scheduling import RetrainPolicy, maybe_queue_training, retrain_reason
from tests.factories import seed_two_tastes, train_in_transaction
from tests.redis_service import REDIS_URL, reachable_redis


class RecordingSender:
    """Keeps the job ids it is handed, as the task queue would deliver them."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, job_id: int) -> None:
        self.sent.append(job_id)


class BrokenSender:
    def send(self, job_id: int) -> None:
        raise ConnectionError("queue down")


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def job_settings(settings: Settings) -> Settings:
    return replace(settings, keep_models=3)


def _user(session: Session, name: str, admin: bool = False) -> int:
    user = User(username=name, username_key=name, password_hash="x", is_admin=admin)
    session.add(user)
    session.commit()
    return user.id


def _job(engine: Engine, job_id: int) -> Job:
    with Session(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_queueing_writes_a_row_then_hands_its_id_to_the_worker(
    session: Session, sender: RecordingSender
) -> None:
    user_id = _user(session, "ops", admin=True)

    job = jobs.queue_training(session, sender, reason="admin", user_id=user_id)

    assert sender.sent == [job.id]
    assert (job.kind, job.state, job.progress, job.result, job.error) == (
        "train",
        "queued",
        0.0,
        None,
        None,
    )
    assert jobs.active_training(session) == job


def test_a_second_training_is_refused_while_one_is_queued(
    session: Session, sender: RecordingSender
) -> None:
    jobs.queue_training(session, sender, reason="admin")

    with pytest.raises(Conflict, match="training is already queued"):
        jobs.queue_training(session, sender, reason="admin")

    assert len(sender.sent) == 1
    jobs.queue_tuning(session, sender, reason="admin")  # another kind may run beside it


def test_the_database_refuses_two_active_trainings_whoever_writes_them(session: Session) -> None:
    job_rows.add_job(session, "train", reason="schedule")
    session.commit()

    with pytest.raises(IntegrityError):
        job_rows.add_job(session, "train", reason="admin")
    session.rollback()
    first = job_rows.active_job(session, "train")
    assert first is not None
    first.state = "done"
    session.commit()
    job_rows.add_job(session, "train", reason="admin")  # once done, a new one may be queued
    session.commit()


def test_a_queue_that_refuses_the_job_fails_it_and_says_so(session: Session) -> None:
    with pytest.raises(jobs.QueueUnavailable):
        jobs.queue_training(session, BrokenSender(), reason="admin")

    (job,) = jobs.recent_jobs(session)
    assert job.state == "failed" and "queue down" in (job.error or "")
    assert jobs.active_training(session) is None


def test_a_job_is_read_by_its_owner_and_admins_only(
    session: Session, sender: RecordingSender
) -> None:
    owner, other, admin = (
        _user(session, name, name == "admin") for name in ("own", "oth", "admin")
    )
    job = jobs.queue_training(session, sender, reason="admin", user_id=owner)

    assert jobs.job_for(session, job.id, owner).id == job.id
    assert jobs.job_for(session, job.id, admin, is_admin=True).id == job.id
    with pytest.raises(NotFound):
        jobs.job_for(session, job.id, other)
    with pytest.raises(NotFound):
        jobs.job_for(session, job.id + 1, owner)


def test_a_training_job_publishes_a_version_with_progress_and_its_loss(
    db_engine: Engine, job_settings: Settings, sender: RecordingSender
) -> None:
    seed_two_tastes(db_engine)
    with transaction(db_engine) as session:
        job = jobs.queue_training(
            session, sender, reason="admin", params={"factors": 4, "iterations": 6}
        )

    assert job_running.run_job(db_engine, job_settings, job.id) == "done"

    finished = _job(db_engine, job.id)
    assert (finished.state, finished.progress, finished.error) == ("done", 1.0, None)
    assert finished.attempts == 1 and finished.started_at and finished.finished_at
    assert finished.result is not None
    store = ModelStore(job_settings.model_dir)
    assert store.versions() == [finished.result["version"]]
    assert len(store.meta(finished.result["version"])["metrics"]["loss"]) == 6
    served = ModelLoader(job_settings.model_dir).current()
    assert served is not None and served.version == finished.result["version"]
    assert job_running.run_job(db_engine, job_settings, job.id) is None  # never run twice


def test_a_failed_training_is_recorded_and_the_current_model_keeps_serving(
    db_engine: Engine, job_settings: Settings, sender: RecordingSender
) -> None:
    seed_two_tastes(db_engine)
    first = train_in_transaction(db_engine, job_settings.model_dir, factors=4, iterations=2)
    with transaction(db_engine) as session:
        job = jobs.queue_training(session, sender, reason="admin", params={"factors": 0})

    assert job_running.run_job(db_engine, job_settings, job.id) == "failed"

    assert "factors" in (_job(db_engine, job.id).error or "")
    assert ModelStore(job_settings.model_dir).versions() == [first.version]


def test_a_tuning_job_adds_trials_to_the_study_that_training_then_uses(
    db_engine: Engine, job_settings: Settings, sender: RecordingSender
) -> None:
    from musicrec.services.hyperparameters import tuned_settings

    seed_two_tastes(db_engine)
    with transaction(db_engine) as session:
        job = jobs.queue_tuning(session, sender, reason="admin", params={"trials": 2})

    assert job_running.run_job(db_engine, job_settings, job.id) == "done"
    result = _job(db_engine, job.id).result or {}
    assert result["trials_run"] == 2 and 0.0 <= result["best_ndcg@10"] <= 1.0
    assert tuned_settings(job_settings.instance_dir, None) is not None


def _running_job(
    engine: Engine, worker: str, attempts: int = 1, beat_age: float = 0.0, kind: str = "train"
) -> int:
    with transaction(engine) as session:
        job = job_rows.add_job(session, kind, reason="admin")
        job_id = job.id
    beat = utcnow() - timedelta(seconds=beat_age)
    with transaction(engine) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(state="running", worker=worker, attempts=attempts, heartbeat_at=beat)
        )
    return job_id


def test_a_job_whose_worker_died_on_this_host_is_queued_again(
    db_engine: Engine, sender: RecordingSender
) -> None:
    worker = f"{job_running.socket.gethostname()}-{_dead_pid()}"
    job_id = _running_job(db_engine, worker)

    assert job_running.reap_lost_jobs(db_engine, sender) == [job_id]

    job = _job(db_engine, job_id)
    assert (job.state, job.worker) == ("queued", None)
    assert sender.sent == [job_id]


def test_a_job_lost_twice_is_failed_not_retried_for_ever(
    db_engine: Engine, sender: RecordingSender
) -> None:
    worker = f"{job_running.socket.gethostname()}-{_dead_pid()}"
    job_id = _running_job(db_engine, worker, attempts=job_running.MAX_ATTEMPTS)

    job_running.reap_lost_jobs(db_engine, sender)

    job = _job(db_engine, job_id)
    assert job.state == "failed" and "worker running this job stopped" in (job.error or "")
    assert sender.sent == [] and job.finished_at is not None


def test_a_silent_worker_elsewhere_is_reaped_after_its_heartbeat_goes_stale(
    db_engine: Engine, sender: RecordingSender
) -> None:
    fresh = _running_job(db_engine, "other-host-1", beat_age=5, kind="import")
    stale = _running_job(db_engine, "other-host-2", beat_age=120, kind="train")
    alive = _running_job(db_engine, f"{job_running.socket.gethostname()}-1", kind="tune")

    reaped = job_running.reap_lost_jobs(db_engine, sender, stale_after=timedelta(seconds=60))

    assert reaped == [stale] and sender.sent == [stale]
    assert _job(db_engine, fresh).state == "running"  # its heartbeat is recent
    assert _job(db_engine, alive).state == "running"  # pid 1 lives on this host


def _rate(engine: Engine, count: int, artist_ids: list[int]) -> None:
    with transaction(engine) as session:
        for n in range(count):
            name = f"fan{uuid.uuid4().hex[:8]}{n}"
            user = User(username=name, username_key=name)
            session.add(user)
            session.flush()
            session.execute(
                insert(Rating).values(user_id=user.id, artist_id=artist_ids[n % 3], rating=9)
            )


def test_retraining_is_due_after_enough_new_ratings_or_after_a_while(
    db_engine: Engine, tmp_path: Path
) -> None:
    tastes = seed_two_tastes(db_engine)
    models = tmp_path / "models"
    policy = RetrainPolicy(after_ratings=5, after=timedelta(hours=24))
    with Session(db_engine) as session:
        assert retrain_reason(session, models, policy) == "no model yet"
    train_in_transaction(db_engine, models, factors=4, iterations=2)
    with Session(db_engine) as session:
        assert retrain_reason(session, models, policy) is None
        in_two_days = utcnow() + timedelta(days=2)
        assert retrain_reason(session, models, policy, in_two_days) is None  # nothing changed

    _rate(db_engine, 4, tastes[0])
    with Session(db_engine) as session:
        assert retrain_reason(session, models, policy) is None
        assert retrain_reason(session, models, policy, in_two_days) == "schedule"
    _rate(db_engine, 1, tastes[0])
    with Session(db_engine) as session:
        assert retrain_reason(session, models, policy) == "5 new ratings"


def test_scheduled_retraining_never_queues_two_trainings(
    db_engine: Engine, tmp_path: Path, sender: RecordingSender
) -> None:
    seed_two_tastes(db_engine)
    policy = RetrainPolicy(after_ratings=1, after=timedelta(0))
    models = tmp_path / "models"

    with transaction(db_engine) as session:
        first = maybe_queue_training(session, sender, models, policy)
    with transaction(db_engine) as session:
        second = maybe_queue_training(session, sender, models, policy)

    assert first is not None and first.reason == "no model yet"
    assert second is None and sender.sent == [first.id]
    with Session(db_engine) as session:
        active = select(func.count()).select_from(Job).where(Job.state.in_(["queued", "running"]))
        assert session.execute(active).scalar_one() == 1


def test_the_default_queue_is_a_sqlite_file_in_the_instance_folder(
    db_engine: Engine, job_settings: Settings
) -> None:
    seed_two_tastes(db_engine)
    queue = JobQueue(job_settings)
    with transaction(db_engine) as session:
        job = jobs.queue_training(session, queue, reason="admin", params={"factors": 4})

    assert (job_settings.instance_dir / "jobs.sqlite3").is_file()
    assert queue.pending() == 1
    queue.huey.execute(queue.huey.dequeue())

    assert _job(db_engine, job.id).state == "done"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_jobs_travel_through_redis_when_configured(
    db_engine: Engine, job_settings: Settings
) -> None:
    reachable_redis().close()  # skips locally, fails under CI=true, when Redis is away
    redis_settings = replace(job_settings, job_queue_url=REDIS_URL)
    queue = JobQueue(redis_settings, name=f"musicrec-test-{uuid.uuid4().hex[:8]}")
    seed_two_tastes(db_engine)
    try:
        with transaction(db_engine) as session:
            job = jobs.queue_training(session, queue, reason="admin", params={"factors": 4})
        assert queue.pending() == 1
        queue.huey.execute(queue.huey.dequeue())
    finally:
        queue.huey.flush()

    assert _job(db_engine, job.id).state == "done"
    assert not (job_settings.instance_dir / "jobs.sqlite3").exists()
