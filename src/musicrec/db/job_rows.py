"""Job rows: created by whoever queues a job, claimed and updated by the worker running it.

State changes are single conditional UPDATEs (``WHERE state = ...``), so two workers can never
both claim a job, and a reaper never takes back a job its worker finished meanwhile.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from musicrec.db.models import Job
from musicrec.db.types import utcnow

ACTIVE_STATES = ("queued", "running")


def add_job(
    session: Session,
    kind: str,
    *,
    reason: str,
    params: dict[str, Any] | None = None,
    user_id: int | None = None,
) -> Job:
    """A queued job (flushed, not committed). At most one train or tune job may be active: a
    second raises IntegrityError from the unique partial index."""
    job = Job(kind=kind, state="queued", reason=reason, params=params or {}, user_id=user_id)
    job.progress, job.attempts, job.created_at = 0.0, 0, utcnow()
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def active_job(session: Session, kind: str) -> Job | None:
    return session.execute(
        select(Job).where(Job.kind == kind, Job.state.in_(ACTIVE_STATES)).limit(1)
    ).scalar_one_or_none()


def active_job_of(session: Session, kind: str, user_id: int) -> Job | None:
    """A queued or running job of this kind that the user queued."""
    return session.execute(
        select(Job)
        .where(Job.kind == kind, Job.user_id == user_id, Job.state.in_(ACTIVE_STATES))
        .limit(1)
    ).scalar_one_or_none()


def latest_job_of(session: Session, kind: str, user_id: int) -> Job | None:
    """The user's newest job of this kind."""
    return session.execute(
        select(Job)
        .where(Job.kind == kind, Job.user_id == user_id)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def recent_jobs(session: Session, limit: int) -> list[Job]:
    """Active jobs first, then the rest, newest first."""
    return list(
        session.execute(
            select(Job)
            .order_by(Job.state.in_(ACTIVE_STATES).desc(), Job.created_at.desc(), Job.id.desc())
            .limit(limit)
        ).scalars()
    )


def running_jobs(session: Session) -> list[Job]:
    return list(session.execute(select(Job).where(Job.state == "running")).scalars())


def _changed(session: Session, statement: Any) -> bool:
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return bool(result.rowcount)


def claim(session: Session, job_id: int, worker: str) -> bool:
    """queued -> running for ``worker``; False when the job is not queued (any more)."""
    now = utcnow()
    return _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == "queued")
        .values(
            state="running",
            worker=worker,
            attempts=Job.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            progress=0.0,
            error=None,
        ),
    )


def record_progress(session: Session, job_id: int, worker: str, progress: float | None) -> bool:
    """Move the heartbeat (and the progress, when given) of a job this worker runs."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = min(max(progress, 0.0), 1.0)
    return _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == "running", Job.worker == worker)
        .values(**values),
    )


def finish(
    session: Session,
    job_id: int,
    worker: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """running -> done (with ``result``) or failed (with ``error``)."""
    values: dict[str, Any] = {"finished_at": utcnow(), "heartbeat_at": utcnow()}
    if error is None:
        values.update(state="done", progress=1.0, result=result, error=None)
    else:
        values.update(state="failed", error=error)
    return _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == "running", Job.worker == worker)
        .values(**values),
    )


def take_back(session: Session, job_id: int, worker: str, *, retry: bool, error: str) -> bool:
    """A running job whose worker is gone: queued again (``retry``) or failed with ``error``."""
    values: dict[str, Any] = (
        {"state": "queued", "worker": None, "error": error}
        if retry
        else {"state": "failed", "error": error, "finished_at": utcnow()}
    )
    return _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == "running", Job.worker == worker)
        .values(**values),
    )


def fail_queued(session: Session, job_id: int, error: str) -> bool:
    """A queued job that can never run (its queue message was lost): failed."""
    return _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == "queued")
        .values(state="failed", error=error, finished_at=utcnow()),
    )
