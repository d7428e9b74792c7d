"""Jobs as the worker runs them: claim, run with progress and a heartbeat, record the outcome;
and take back jobs whose worker died.

A job's row says which worker runs it (``<host>-<pid>``) and when that worker last proved
alive (``heartbeat_at``, moved every ``HEARTBEAT_SECONDS`` by a thread beside the job). A
running job is lost when its worker's process is gone (same host) or its heartbeat is older
than ``STALE_AFTER``; a lost job is queued again once (``MAX_ATTEMPTS``), then failed. Nothing a
job does is visible before it succeeds: a training publishes its version atomically at the end,
so a worker killed mid-training leaves the previous version serving and every rating in place.
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
from typing import Any

from sqlalchemy import Engine

from musicrec.config import Settings
from musicrec.db import job_rows
from musicrec.db.session import read_transaction, transaction
from musicrec.db.types import utcnow
from musicrec.engine import als, tuning
from musicrec.services.errors import ServiceError
from musicrec.services.hyperparameters import database_split
from musicrec.services.jobs import JobSender, failure_message, internal_failure_message
from musicrec.services.spotify_import import import_library
from musicrec.services.training import train_and_publish

log = logging.getLogger("musicrec.jobs")

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=60)
MAX_ATTEMPTS = 2  # a job whose worker died is run once more, then failed
TUNING_TRIALS = 10  # trials a tuning job adds to the study
PROGRESS_EVERY_SECONDS = 0.5  # progress is written at most this often
# Jobs only operators queue: the ValueErrors of their settings ("unknown parameter(s) for
# explicit ALS", "There are no ratings to train on") are addressed to them.
OPERATOR_KINDS = frozenset({"train", "tune"})
Progress = Callable[[float], None]


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class JobContext:
    """What a job needs: the database, the settings, and how to report progress."""

    engine: Engine
    settings: Settings
    progress: Progress


def run_training(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Train on every rating and publish a version; progress follows the ALS sweeps."""
    overrides = dict(params)
    kind = str(overrides.pop("kind", als.DEFAULT_KIND))
    iterations = als.settings_for(kind, **overrides).iterations
    context.progress(0.02)

    def on_iteration(iteration: int, _loss: float | None) -> None:
        context.progress(0.05 + 0.9 * iteration / iterations)

    with read_transaction(context.engine) as session:
        report = train_and_publish(
            session,
            context.settings.model_dir,
            kind,
            keep_versions=context.settings.keep_models,
            on_iteration=on_iteration,
            **overrides,
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
    """Run more trials of the embedded engine's study (``musicrec tune --resume``) on a
    validation split of the database's ratings; the next training uses the best settings."""
    more = int(params.get("trials", TUNING_TRIALS))
    with read_transaction(context.engine) as session:
        split = database_split(session)
    context.progress(0.05)
    context.settings.instance_dir.mkdir(parents=True, exist_ok=True)
    storage = tuning.default_storage(context.settings.instance_dir)
    name = tuning.study_name("embedded")
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


class _ProgressWriter:
    """Writes a job's progress (throttled) and, from its own thread, its heartbeat."""

    def __init__(self, engine: Engine, job_id: int, worker: str, every: float) -> None:
        self.engine, self.job_id, self.worker, self.every = engine, job_id, worker, every
        self._written_at = float("-inf")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def _write(self, progress: float | None) -> None:
        try:
            with transaction(self.engine) as session:
                job_rows.record_progress(session, self.job_id, self.worker, progress)
        except Exception:  # noqa: BLE001 - a missed beat must not fail the job
            log.warning("could not record progress of job %s", self.job_id, exc_info=True)

    def report(self, progress: float) -> None:
        if time.monotonic() - self._written_at >= PROGRESS_EVERY_SECONDS:
            self._written_at = time.monotonic()
            self._write(progress)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            self._write(None)

    def __enter__(self) -> _ProgressWriter:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_job(
    engine: Engine, settings: Settings, job_id: int, heartbeat_seconds: float = HEARTBEAT_SECONDS
) -> str | None:
    """Claim and run one queued job; returns its final state (None if it was not queued)."""
    worker = worker_name()
    with transaction(engine) as session:
        if not job_rows.claim(session, job_id, worker):
            log.info("job %s is not queued any more: skipped", job_id)
            return None
        job = job_rows.get_job(session, job_id)
        assert job is not None
        kind, params = job.kind, dict(job.params or {})
    log.info("job %s (%s) started by %s", job_id, kind, worker)
    outcome: dict[str, Any]
    with _ProgressWriter(engine, job_id, worker, heartbeat_seconds) as writer:
        try:
            runner = RUNNERS.get(kind)
            if runner is None:
                raise ServiceError(f"No worker can run {kind} jobs in this build.")
            outcome = {"result": runner(JobContext(engine, settings, writer.report), params)}
        except Exception as error:  # noqa: BLE001 - recorded on the job, then logged
            outcome = {"error": recorded_error(job_id, kind, error)}
    with transaction(engine) as session:
        job_rows.finish(session, job_id, worker, **outcome)
    state = "failed" if "error" in outcome else "done"
    log.info("job %s %s", job_id, state)
    return state


def recorded_error(job_id: int, kind: str, error: Exception) -> str:
    """The message a failed job's row keeps for its user: an error raised on purpose (a
    ``ServiceError``, ``FieldError`` included; an operator's ``ValueError``) keeps its words;
    any other (a database error with its SQL and parameters, a bug) is logged with its
    traceback under a reference, and the user reads only that reference."""
    if isinstance(error, ServiceError) or (
        isinstance(error, ValueError) and kind in OPERATOR_KINDS
    ):
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
            if job_rows.take_back(session, job.id, job.worker or "", retry=retry, error=error):
                reaped.append(job.id)
                if retry:
                    requeued.append(job.id)
    for job_id in requeued:
        log.warning("job %s lost its worker: queued again", job_id)
        sender.send(job_id)
    for job_id in set(reaped) - set(requeued):
        log.warning("job %s lost its worker again: failed", job_id)
    return reaped
