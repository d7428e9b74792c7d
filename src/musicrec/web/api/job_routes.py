"""Jobs in API version 1: a user follows their own jobs; admins list them and queue trainings
and tuning runs (answered 202 at once: the worker process does the work)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, request

from musicrec.services import jobs
from musicrec.web.api import api, require_user
from musicrec.web.api.answers import JobAnswer, JobList, JobOut, answer
from musicrec.web.api.error_answers import ApiError, error_response
from musicrec.web.api.spec import documented
from musicrec.web.auth.guard import current_user, is_admin
from musicrec.web.db import db_session
from musicrec.web.extensions import job_queue

log = logging.getLogger("musicrec.api")
View = TypeVar("View", bound=Callable[..., Any])


def require_admin(view: View) -> View:
    """401 without a session, 403 for a signed-in user who is not an admin."""

    @wraps(view)
    @require_user
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not is_admin():
            log.warning("denied %s %s: not an admin", request.method, request.path)
            raise ApiError(403, "forbidden", "Only admins may do this.")
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


@api.errorhandler(jobs.QueueUnavailable)
def queue_unavailable(error: jobs.QueueUnavailable) -> tuple[Response, int]:
    log.error("job queue unavailable: %s", error.__cause__)
    return error_response(503, "queue_unavailable", str(error))


def _user_id() -> int:
    user = current_user()
    assert user is not None
    return user.id


def _job_answer(job: jobs.JobView, status: int = 200) -> tuple[Response, int]:
    return answer(JobAnswer(job=JobOut.model_validate(job)), status)


@api.get("/me/jobs/<id:job_id>")
@documented("jobs", {200: (JobAnswer, "The job")}, errors=(401, 404, 503), signed_in=True)
@require_user
def my_job(job_id: int) -> tuple[Response, int]:
    """One of my jobs (or, for an admin, any job): state, progress, result or error"""
    return _job_answer(jobs.job_for(db_session(), job_id, _user_id(), is_admin()))


@api.get("/admin/jobs")
@documented("admin", {200: (JobList, "Recent jobs")}, errors=(401, 403, 503), signed_in=True)
@require_admin
def all_jobs() -> tuple[Response, int]:
    """Recent jobs of everyone: queued and running first, then newest first"""
    found = jobs.recent_jobs(db_session())
    return answer(JobList(jobs=[JobOut.model_validate(job) for job in found]))


@api.post("/admin/train")
@documented(
    "admin",
    {202: (JobAnswer, "Queued: follow it at /api/v1/me/jobs/{id}")},
    errors=(401, 403, 409, 503),
    signed_in=True,
)
@require_admin
def queue_training() -> tuple[Response, int]:
    """Queue a training on every rating (409 while one is queued or running)"""
    job = jobs.queue_training(db_session(), job_queue(), reason="admin", user_id=_user_id())
    log.info("training queued by user_id=%s: job %s", _user_id(), job.id)
    return _job_answer(job, 202)


@api.post("/admin/tune")
@documented(
    "admin",
    {202: (JobAnswer, "Queued: follow it at /api/v1/me/jobs/{id}")},
    errors=(401, 403, 409, 503),
    signed_in=True,
)
@require_admin
def queue_tuning() -> tuple[Response, int]:
    """Queue a tuning run of the ALS settings (409 while one is queued or running)"""
    job = jobs.queue_tuning(db_session(), job_queue(), reason="admin", user_id=_user_id())
    log.info("tuning queued by user_id=%s: job %s", _user_id(), job.id)
    return _job_answer(job, 202)
