"""Jobs as the worker runs them: claim, run with progress and a heartbeat, record the outcome;
and take back jobs whose worker died.

A job's row says which worker runs it (``<host>-<pid>``) and when that worker last proved
alive (``heartbeat_at``, moved every ``HEARTBEAT_SECONDS`` by a thread beside the job). A
running job is lost when its worker's process is gone (same host) or its heartbeat is older
than ``STALE_AFTER``; a lost job is queued again once (``MAX_ATTEMPTS``), then failed. Nothing a
job does is visible before it succeeds: a training publishes its version atomically at the end,
so a worker killed mid-training leaves the previous version serving and every rating in place.

A run holds its job as a lease: its heartbeat and its outcome are written only while the row
still names its worker and its attempt (the fencing token ``claim`` returns). A run that could
not write its heartbeat for half of ``STALE_AFTER`` stops at its next progress report, and a
training proves it still owns its job just before publishing, so a job taken back from a live
worker is never published twice.

A queued job whose message the task queue lost (still queued ``LOST_AFTER`` after it was sent,
its id in no waiting message) is sent again, and failed with a visible reason after
``MAX_DELIVERIES`` sends: it would otherwise block every later training.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine

from musicrec.config import Settings
from musicrec.db import job_rows, trainable
from musicrec.db.session import read_transaction, transaction
from musicrec.db.types import utcnow
from musicrec.engine import als, tuning
from musicrec.services.errors import ServiceError
from musicrec.services.hyperparameters import database_split
from musicrec.services.jobs import JobSender, failure_message, internal_failure_message
from musicrec.services.spotify_import import import_library
from musicrec.services.training import train_and_publish
from musicrec.services.training_settings import plan_training

log = logging.getLogger("musicrec.jobs")

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=60)
# A run stops by itself once its heartbeat went unwritten for this many beats (half of
# STALE_AFTER at the default beat), well before anyone may take its job back.
FENCE_AFTER_BEATS = (STALE_AFTER.total_seconds() / HEARTBEAT_SECONDS) / 2
MAX_ATTEMPTS = 2  # a job whose worker died is run once more, then failed
LOST_AFTER = timedelta(seconds=10)  # a queued job's message is due in the queue by then
MAX_DELIVERIES = 4  # sends of one job (first, after a take-back, after a loss) before failing
TUNING_TRIALS = 10  # trials a tuning job adds to the study
PROGRESS_EVERY_SECONDS = 0.5  # progress is written at most this often
NO_RATINGS = "There are no ratings to train on: import data or rate artists first."
Progress = Callable[[float], None]


class JobLost(Exception):
    """This run owns its job no more (taken back), or cannot prove it does (its heartbeat
    could not be written): it stops, publishes nothing and records nothing."""


class QueueView(JobSender, Protocol):
    """The task queue as the recovery of lost messages needs it."""

    def waiting_job_ids(self) -> set[int]:
        """Ids of the jobs whose messages wait in the queue."""
        ...


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _still_owned() -> None:
    """A job run outside a lease (tests, one-off calls) owns its job."""


@dataclass(frozen=True)
class JobContext:
    """What a job needs: the database, the settings, how to report progress (which raises
    JobLost once the run lost its job), and ``confirm``: proof, raised as JobLost when it
    fails, that the run still owns its job, before a step that must happen once."""

    engine: Engine
    settings: Settings
    progress: Progress
    confirm: Callable[[], None] = _still_owned


def _require_ratings(context: JobContext) -> None:
    """Refuse, in words the operator can act on, to train or tune on no ratings (a ValueError
    raised deeper down is an internal error)."""
    with read_transaction(context.engine) as session:
        if trainable.trainable_count(session) == 0:
            raise ServiceError(NO_RATINGS)


def run_training(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Train on every rating and publish a version, with the settings ``musicrec train`` would
    use (``params`` over the tuning study's best over the defaults); progress follows the ALS
    sweeps, and the run proves it still owns its job after the last one, before publishing."""
    overrides = dict(params)
    kind = str(overrides.pop("kind", als.DEFAULT_KIND))
    plan = plan_training(context.settings.instance_dir, kind, overrides)
    iterations = plan.settings.iterations
    _require_ratings(context)
    context.progress(0.02)

    def on_iteration(iteration: int, _loss: float | None) -> None:
        context.progress(0.05 + 0.9 * iteration / iterations)
        if iteration >= iterations:
            context.confirm()

    report = train_and_publish(
        context.engine,
        context.settings.model_dir,
        kind,
        keep_versions=context.settings.keep_models,
        base=plan.base,
        on_iteration=on_iteration,
        model_store=context.settings.model_store,
        **plan.overrides,
    )
    return {
        "version": report.version,
        "kind": report.kind,
        "ratings": report.ratings,
        "users": report.users,
        "artists": report.artists,
        "seconds": round(report.seconds, 3),
    }


def run_tuning_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Run more trials of the embedded engine's study of the database's ratings as they are
    now (``musicrec tune --resume``: the same ratings resume their study, changed ones start
    a new one); the next training uses the newest study's best settings."""
    try:
        more = int(params.get("trials", TUNING_TRIALS))
    except (TypeError, ValueError):
        raise ServiceError(f"trials must be a whole number, not {params['trials']!r}.") from None
    _require_ratings(context)
    with read_transaction(context.engine) as session:
        split = database_split(session)
    context.progress(0.05)
    context.settings.instance_dir.mkdir(parents=True, exist_ok=True)
    storage = tuning.default_storage(context.settings.instance_dir)
    name = tuning.study_name("embedded", split.data_key)
    study = tuning.open_study(storage, name, resume=True)
    done_before = tuning.completed_trials(study)
    ran = tuning.run_study(study, split, trials=done_before + more)
    best = study.best_trial
    return {
        "study": name,
        "trials_run": ran,
        "best_trial": best.number,
        "best_ndcg@10": round(float(best.value or 0.0), 4),
        "best_params": best.params,
    }


def run_import(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Import a user's Spotify library as ratings (the only import a user can queue)."""
    if params.get("source") != "spotify":
        raise ServiceError(f"No worker can import from {params.get('source')!r}.")
    return import_library(
        context.engine, context.settings, int(params["user_id"]), context.progress
    )


RUNNERS: dict[str, Callable[[JobContext, dict[str, Any]], dict[str, Any]]] = {
    "train": run_training,
    "tune": run_tuning_job,
    "import": run_import,
}


class _Lease:
    """A run's hold on its job: writes its progress (throttled) and, from its own thread, its
    heartbeat, both fenced by the run's attempt; knows when it can no longer prove it owns the
    job (taken back, or no heartbeat written for ``FENCE_AFTER_BEATS`` beats)."""

    def __init__(self, engine: Engine, job_id: int, worker: str, attempt: int, every: float):
        self.engine, self.job_id, self.worker, self.attempt = engine, job_id, worker, attempt
        self.every = every
        self._written_at = float("-inf")
        self._confirmed_at = time.monotonic()  # the claim's write
        self._taken_back = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def _write(self, progress: float | None) -> bool:
        """Move the heartbeat (and progress); whether the run still owns the job."""
        try:
            with transaction(self.engine) as session:
                owned = job_rows.record_progress(
                    session, self.job_id, self.worker, progress, self.attempt
                )
        except Exception:  # noqa: BLE001 - a missed beat is counted, not raised here
            log.warning("could not record the heartbeat of job %s", self.job_id, exc_info=True)
            return False
        if owned:
            self._confirmed_at = time.monotonic()
        else:
            self._taken_back = True
        return owned

    def check(self) -> None:
        """Raise JobLost when the run cannot count on owning its job any more."""
        if self._taken_back:
            raise JobLost(f"job {self.job_id} was taken back from this run")
        silent = time.monotonic() - self._confirmed_at
        if silent > self.every * FENCE_AFTER_BEATS:
            raise JobLost(f"job {self.job_id}: no heartbeat written for {silent:.1f} s")

    def report(self, progress: float) -> None:
        self.check()
        if time.monotonic() - self._written_at >= PROGRESS_EVERY_SECONDS:
            self._written_at = time.monotonic()
            self._write(progress)

    def confirm(self) -> None:
        """Prove now, by a write fenced by the attempt, that the run owns its job: what it
        does next (publishing) has ``STALE_AFTER`` before anyone may take the job back."""
        if not self._write(None):
            raise JobLost(f"job {self.job_id}: ownership could not be confirmed")

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            self._write(None)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_job(
    engine: Engine, settings: Settings, job_id: int, heartbeat_seconds: float = HEARTBEAT_SECONDS
) -> str | None:
    """Claim and run one queued job; returns its final state ("lost" when the run lost its job
    on the way; None if it was not queued)."""
    worker = worker_name()
    with transaction(engine) as session:
        attempt = job_rows.claim(session, job_id, worker)
        if attempt is None:
            log.info("job %s is not queued any more: skipped", job_id)
            return None
        job = job_rows.get_job(session, job_id)
        assert job is not None
        kind, params = job.kind, dict(job.params or {})
    log.info("job %s (%s) attempt %s started by %s", job_id, kind, attempt, worker)
    outcome: dict[str, Any]
    with _Lease(engine, job_id, worker, attempt, heartbeat_seconds) as lease:
        try:
            runner = RUNNERS.get(kind)
            if runner is None:
                raise ServiceError(f"No worker can run {kind} jobs in this build.")
            context = JobContext(engine, settings, lease.report, lease.confirm)
            outcome = {"result": runner(context, params)}
        except JobLost as lost:
            log.warning("job %s stopped without publishing anything: %s", job_id, lost)
            return "lost"
        except Exception as error:  # noqa: BLE001 - recorded on the job, then logged
            outcome = {"error": recorded_error(job_id, kind, error)}
    with transaction(engine) as session:
        recorded = job_rows.finish(session, job_id, worker, attempt=attempt, **outcome)
    if not recorded:
        log.warning("job %s was taken back before its outcome was recorded", job_id)
        return "lost"
    state = "failed" if "error" in outcome else "done"
    log.info("job %s %s", job_id, state)
    return state


def recorded_error(job_id: int, kind: str, error: Exception) -> str:
    """The message a failed job's row keeps for its user: an error raised on purpose (a
    ``ServiceError``: ``FieldError``, invalid settings, no ratings) keeps its words; any other
    (a database error with its SQL and parameters, a ValueError from NumPy or the engine, a
    bug) is logged with its traceback under a reference, and the user reads only that."""
    if isinstance(error, ServiceError):
        log.info("job %s failed: %s", job_id, error)
        return failure_message(kind, str(error))
    log.error("job %s failed (reference #job-%s)", job_id, job_id, exc_info=error)
    return internal_failure_message(kind, job_id)


def _worker_is_gone(worker: str | None, host: str) -> bool:
    """True when ``worker`` ran on this host and its process no longer exists."""
    if not worker:
        return True
    worker_host, _, pid = worker.rpartition("-")
    if worker_host != host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reap_lost_jobs(
    engine: Engine,
    sender: JobSender,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> list[int]:
    """Queue again (or fail, after ``MAX_ATTEMPTS``) running jobs whose worker is gone;
    returns their ids."""
    now, host = now or utcnow(), socket.gethostname()
    requeued, reaped = [], []
    with transaction(engine) as session:
        for job in job_rows.running_jobs(session):
            beat = job.heartbeat_at or job.started_at or job.created_at
            if not (_worker_is_gone(job.worker, host) or now - beat > stale_after):
                continue
            retry = job.attempts < MAX_ATTEMPTS
            error = f"The worker running this job stopped (attempt {job.attempts})."
            taken = job_rows.take_back(
                session, job.id, job.worker or "", retry=retry, error=error, attempt=job.attempts
            )
            if taken:
                reaped.append(job.id)
                if retry:
                    requeued.append(job.id)
    for job_id in requeued:
        log.warning("job %s lost its worker: queued again", job_id)
        _send(sender, job_id)
    for job_id in set(reaped) - set(requeued):
        log.warning("job %s lost its worker again: failed", job_id)
    return reaped


def _send(sender: JobSender, job_id: int) -> None:
    """Hand a job to the queue; one the queue refuses stays queued, sent again later."""
    try:
        sender.send(job_id)
    except Exception:  # noqa: BLE001 - whatever the queue's client raises
        log.warning("job %s could not be sent to the queue", job_id, exc_info=True)


def lost_message_error(kind: str, deliveries: int) -> str:
    return failure_message(
        kind, f"the task queue lost it {deliveries} times; queue it again, or check the queue."
    )


def redeliver_lost_jobs(
    engine: Engine,
    queue: QueueView,
    now: datetime | None = None,
    lost_after: timedelta = LOST_AFTER,
) -> list[int]:
    """Send again the queued jobs whose message was lost: sent more than ``lost_after`` ago
    and in no message waiting in the queue (a worker would have claimed it). After
    ``MAX_DELIVERIES`` sends such a job is failed, saying so. Returns the ids sent again or
    failed. Sending twice is harmless: only the first message to arrive claims the job."""
    now = now or utcnow()
    with read_transaction(engine) as session:
        overdue = [
            (job.id, job.kind, job.deliveries)
            for job in job_rows.queued_unsent_since(session, now - lost_after)
        ]
    if not overdue:
        return []
    waiting = queue.waiting_job_ids()
    resend, failed = [], []
    with transaction(engine) as session:
        for job_id, kind, deliveries in overdue:
            if job_id in waiting:
                continue
            if deliveries >= MAX_DELIVERIES:
                if job_rows.fail_queued(session, job_id, lost_message_error(kind, deliveries)):
                    failed.append(job_id)
            elif job_rows.mark_resent(session, job_id, deliveries):
                resend.append(job_id)
    for job_id in resend:
        log.warning("job %s was queued but its message is gone: sent again", job_id)
        _send(queue, job_id)
    for job_id in failed:
        log.error(
            "job %s: the task queue lost its message %s times: failed", job_id, MAX_DELIVERIES
        )
    return resend + failed
