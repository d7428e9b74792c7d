"""Job rows: created by whoever queues a job, claimed and updated by the worker running it.

State changes are single conditional UPDATEs (``WHERE state = ...``), so two workers can never
both claim a job, and a reaper never takes back a job its worker finished meanwhile. A run is
fenced by its attempt number: a run whose job was taken back and claimed again can write neither
its heartbeat nor its outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select, update
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
    job.sent_at, job.deliveries = job.created_at, 1  # the caller sends it once committed
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


def claim(session: Session, job_id: int, worker: str) -> int | None:
    """queued -> running for ``worker``; the run's attempt number (its fencing token), or None
    when the job is not queued (any more)."""
    now = utcnow()
    claimed = _changed(
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
    if not claimed:
        return None
    return session.execute(select(Job.attempts).where(Job.id == job_id)).scalar_one()


def _run_is(job_id: int, worker: str, attempt: int | None) -> list[Any]:
    """The conditions under which the run ``attempt`` of ``worker`` still owns the job."""
    owned = [Job.id == job_id, Job.state == "running", Job.worker == worker]
    return owned if attempt is None else [*owned, Job.attempts == attempt]


def record_progress(
    session: Session,
    job_id: int,
    worker: str,
    progress: float | None,
    attempt: int | None = None,
) -> bool:
    """Move the heartbeat (and the progress, when given) of a job this run owns; False when
    it owns it no more."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = min(max(progress, 0.0), 1.0)
    return _changed(session, update(Job).where(*_run_is(job_id, worker, attempt)).values(**values))


def finish(
    session: Session,
    job_id: int,
    worker: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    attempt: int | None = None,
) -> bool:
    """running -> done (with ``result``) or failed (with ``error``), if this run owns it."""
    values: dict[str, Any] = {"finished_at": utcnow(), "heartbeat_at": utcnow()}
    if error is None:
        values.update(state="done", progress=1.0, result=result, error=None)
    else:
        values.update(state="failed", error=error)
    return _changed(session, update(Job).where(*_run_is(job_id, worker, attempt)).values(**values))


def take_back(
    session: Session,
    job_id: int,
    worker: str,
    *,
    retry: bool,
    error: str,
    attempt: int | None = None,
) -> bool:
    """A running job whose worker is gone: queued again (``retry``; the caller sends it) or
    failed with ``error``."""
    now = utcnow()
    values: dict[str, Any] = (
        {
            "state": "queued",
            "worker": None,
            "error": error,
            "sent_at": now,
            "deliveries": Job.deliveries + 1,
        }
        if retry
        else {"state": "failed", "error": error, "finished_at": now}
    )
    return _changed(session, update(Job).where(*_run_is(job_id, worker, attempt)).values(**values))


def queued_unsent_since(session: Session, before: datetime) -> list[Job]:
    """Queued jobs last handed to the queue before ``before``."""
    sent = func.coalesce(Job.sent_at, Job.created_at)
    return list(session.execute(select(Job).where(Job.state == "queued", sent < before)).scalars())


def mark_resent(session: Session, job_id: int, deliveries: int) -> bool:
    """Count one more delivery of a queued job, unless it was claimed or sent again since it
    was read with ``deliveries``."""
    return _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == "queued", Job.deliveries == deliveries)
        .values(sent_at=utcnow(), deliveries=Job.deliveries + 1),
    )


def fail_queued(session: Session, job_id: int, error: str) -> bool:
    """A queued job that can never run (its queue message was lost): failed."""
    return _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.state == "queued")
        .values(state="failed", error=error, finished_at=utcnow()),
    )
