"""Jobs as the web and the CLI see them: queue a training or a tuning run, read a job's state.

Long work never runs in a web request. Queueing writes a ``jobs`` row, commits it, then hands
its id to the worker process through the task queue (:mod:`musicrec.services.queue`); the
worker (:mod:`musicrec.services.job_running`) writes the state, progress and result back to
the row, which is what every reader sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from musicrec.db import job_rows
from musicrec.db.models import Job
from musicrec.services.errors import Conflict, NotFound, ServiceError

RECENT_JOBS = 50
JOB_NAMES = {"train": "training", "tune": "tuning run", "import": "import"}
# Before issue 18 an unexpected error was stored raw (its SQL and parameters included).
RAW_ERROR_PREFIX = "Unexpected error: "


class JobSender(Protocol):
    """Hands a committed job's id to the worker (the task queue, or a test double)."""

    def send(self, job_id: int) -> None: ...


class QueueUnavailable(ServiceError):
    """The task queue refused the job (Redis down, say): the job is marked failed."""


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    state: str  # queued | running | done | failed
    progress: float  # 0..1
    reason: str
    result: dict[str, Any] | None
    error: str | None
    user_id: int | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(
            id=job.id,
            kind=job.kind,
            state=job.state,
            progress=float(job.progress),
            reason=job.reason,
            result=job.result,
            error=shown_error(job),
            user_id=job.user_id,
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )

    @property
    def active(self) -> bool:
        return self.state in job_rows.ACTIVE_STATES


def job_name(kind: str) -> str:
    return JOB_NAMES.get(kind, kind)


def failure_message(kind: str, message: str) -> str:
    """What a job's user reads when it failed for a reason they can act on."""
    return f"The {job_name(kind)} failed: {message}"


def internal_failure_message(kind: str, job_id: int) -> str:
    """What a job's user reads when it failed on our side: no detail, a reference to quote
    (the worker's log has the traceback under it)."""
    return f"The {job_name(kind)} failed because of an internal error (reference #job-{job_id})."


def shown_error(job: Job) -> str | None:
    """The job's error as users and operators see it: a raw one stored by an older version
    is replaced by the plain message."""
    if job.error is not None and job.error.startswith(RAW_ERROR_PREFIX):
        return internal_failure_message(job.kind, job.id)
    return job.error


def queue_job(
    session: Session,
    sender: JobSender,
    kind: str,
    *,
    reason: str,
    params: dict[str, Any] | None = None,
    user_id: int | None = None,
) -> JobView:
    """Queue a job and hand it to the worker. Commits the session: the worker must find the
    row when it receives the id. Raises Conflict while a job of an exclusive kind (training,
    tuning) is already queued or running."""
    try:
        job = job_rows.add_job(session, kind, reason=reason, params=params, user_id=user_id)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict({"kind": f"A {job_name(kind)} is already queued or running."}) from None
    try:
        sender.send(job.id)
    except Exception as error:  # noqa: BLE001 - whatever the queue's client raises
        job_rows.fail_queued(session, job.id, f"The task queue refused the job: {error}")
        session.commit()
        raise QueueUnavailable("The job queue is unavailable; try again later.") from error
    return JobView.of(job)


def queue_training(
    session: Session,
    sender: JobSender,
    *,
    reason: str,
    user_id: int | None = None,
    params: dict[str, Any] | None = None,
) -> JobView:
    """Queue a training on every rating; ``params``: ``kind`` and ALS settings overrides."""
    return queue_job(session, sender, "train", reason=reason, params=params, user_id=user_id)


def queue_tuning(
    session: Session,
    sender: JobSender,
    *,
    reason: str,
    user_id: int | None = None,
    params: dict[str, Any] | None = None,
) -> JobView:
    return queue_job(session, sender, "tune", reason=reason, user_id=user_id, params=params)


def queue_spotify_import(session: Session, sender: JobSender, *, user_id: int) -> JobView:
    """Queue the import of the user's Spotify library as ratings; Conflict while one of theirs
    is queued or running."""
    if job_rows.active_job_of(session, "import", user_id) is not None:
        raise Conflict({"kind": "Your Spotify import is already queued or running."})
    params = {"source": "spotify", "user_id": user_id}
    return queue_job(session, sender, "import", reason="spotify", params=params, user_id=user_id)


def latest_spotify_import(session: Session, user_id: int) -> JobView | None:
    """The user's newest Spotify import, to show its progress or result."""
    job = job_rows.latest_job_of(session, "import", user_id)
    return JobView.of(job) if job is not None else None


def job_for(session: Session, job_id: int, user_id: int, is_admin: bool = False) -> JobView:
    """A job as its owner (or an admin) may read it; NotFound for anyone else."""
    job = job_rows.get_job(session, job_id)
    if job is None or not (is_admin or job.user_id == user_id):
        raise NotFound("No job of yours has this id.")
    return JobView.of(job)


def recent_jobs(session: Session, limit: int = RECENT_JOBS) -> list[JobView]:
    """Queued and running jobs, then finished ones, newest first."""
    return [JobView.of(job) for job in job_rows.recent_jobs(session, limit)]


def active_training(session: Session) -> JobView | None:
    job = job_rows.active_job(session, "train")
    return JobView.of(job) if job is not None else None
