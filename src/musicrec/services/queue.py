"""The task queue between the web (and the CLI) and the worker process, on huey.

Storage: a SQLite file in the instance folder by default (``jobs.sqlite3``: nothing to run
beside the app), Redis when ``MUSICREC_JOB_QUEUE_URL`` is a ``redis://`` URL (several hosts).
The queue carries job ids only; the job itself is a database row (:mod:`musicrec.services.jobs`).

``musicrec worker`` runs :meth:`JobQueue.run_worker`: it first takes back jobs left running by
a dead worker, then consumes the queue, polling at most ``POLL_SECONDS`` apart (Redis pushes
at once), and once a minute reaps lost jobs and queues a training when one is due. Beside the
consumer, a watchdog thread recovers jobs every ``RECOVER_SECONDS`` (jobs whose worker died,
queued jobs whose message was lost), even while a long job keeps the consumer busy.
"""

from __future__ import annotations

import logging
import threading

from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import Engine

from musicrec.config import ConfigurationError, Settings
from musicrec.db.session import make_engine, transaction
from musicrec.services import job_running
from musicrec.services.erasure import erase_from_models_logged
from musicrec.services.scheduling import RetrainPolicy, maybe_queue_training

log = logging.getLogger("musicrec.queue")

QUEUE_NAME = "musicrec"
QUEUE_FILE = "jobs.sqlite3"
POLL_SECONDS = 1.0
RECOVER_SECONDS = 15.0  # with LOST_AFTER, a lost message is sent again within half a minute
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def make_huey(settings: Settings, name: str = QUEUE_NAME) -> Huey:
    url = settings.job_queue_url.strip()
    if url.startswith(REDIS_SCHEMES):
        return RedisHuey(name, url=url, results=False)
    if url:
        raise ConfigurationError(
            f"MUSICREC_JOB_QUEUE_URL must be a redis:// URL or empty (SQLite), not {url!r}."
        )
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.instance_dir / QUEUE_FILE), results=False)


class JobQueue:
    """Sends job ids to the worker; in the worker, runs them. One per process."""

    def __init__(self, settings: Settings, name: str = QUEUE_NAME) -> None:
        self.settings = settings
        self.huey = make_huey(settings, name)
        self._run_job = self.huey.task(name="run_job")(self._execute)
        self.huey.periodic_task(crontab(), name="tick")(self.tick)
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()

    def send(self, job_id: int) -> None:
        self._run_job(job_id)

    def pending(self) -> int:
        return int(self.huey.pending_count())

    def waiting_job_ids(self) -> set[int]:
        """Ids of the jobs whose messages wait in the queue (not yet taken by a worker)."""
        return {
            int(task.args[0])
            for task in self.huey.pending()
            if task.name == self._run_job.name and task.args
        }

    def engine(self) -> Engine:
        with self._engine_lock:
            if self._engine is None:
                self._engine = make_engine(self.settings.database_url)
            return self._engine

    def _execute(self, job_id: int) -> None:
        job_running.run_job(self.engine(), self.settings, job_id)

    def recover(self) -> None:
        """Take back jobs whose worker died; send again queued jobs whose message was lost."""
        job_running.reap_lost_jobs(self.engine(), self)
        job_running.redeliver_lost_jobs(self.engine(), self)

    def tick(self) -> None:
        """Recover lost jobs; strip deleted accounts from the model versions; queue a
        training when one is due."""
        self.recover()
        erase_from_models_logged(self.engine(), self.settings.model_dir, self.settings.model_store)
        with transaction(self.engine()) as session:
            job = maybe_queue_training(
                session, self, self.settings.model_dir, RetrainPolicy.from_settings(self.settings)
            )
        if job is not None:
            log.info("training queued (job %s): %s", job.id, job.reason)

    def run_worker(self, poll_seconds: float = POLL_SECONDS) -> None:
        """Consume the queue in this process until SIGINT or SIGTERM."""
        job_running.reap_lost_jobs(self.engine(), self)
        consumer = self.huey.create_consumer(
            workers=1, periodic=True, initial_delay=0.1, max_delay=poll_seconds
        )
        stop = threading.Event()
        watchdog = threading.Thread(
            target=self._watch, args=(stop,), name="job-watchdog", daemon=True
        )
        watchdog.start()
        try:
            consumer.run()
        finally:
            stop.set()

    def _watch(self, stop: threading.Event, every: float = RECOVER_SECONDS) -> None:
        while not stop.wait(every):
            try:
                self.recover()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("recovering lost jobs failed")
