"""The service objects each app builds once (in ``web.init_app``), as the views reach them."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import current_app

from musicrec.config import Settings
from musicrec.services.catalogue import Catalogue
from musicrec.services.recommending import RecommendationService

if TYPE_CHECKING:
    from musicrec.services.queue import JobQueue

CATALOGUE = "musicrec.catalogue"
RECOMMENDATIONS = "musicrec.recommendations"
JOB_QUEUE = "musicrec.job_queue"
_job_queue_lock = threading.Lock()


def catalogue() -> Catalogue:
    value: Catalogue = current_app.extensions[CATALOGUE]
    return value


def recommendations() -> RecommendationService:
    value: RecommendationService = current_app.extensions[RECOMMENDATIONS]
    return value


def job_queue() -> JobQueue:
    """The app's handle on the task queue, opened on first use (most requests never need it;
    huey and its Redis client are not even imported until then)."""
    from musicrec.services.queue import JobQueue

    with _job_queue_lock:
        if JOB_QUEUE not in current_app.extensions:
            settings: Settings = current_app.config["MUSICREC_SETTINGS"]
            current_app.extensions[JOB_QUEUE] = JobQueue(settings)
        value: JobQueue = current_app.extensions[JOB_QUEUE]
    return value
