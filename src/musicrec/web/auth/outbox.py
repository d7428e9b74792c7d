"""Work done after the answer: a reset request's lookup, token and mail.

Run inside the request, that work made a known address answer 9 ms slower than an unknown one,
which told who has an account. Here it runs on one background thread per app (a greenlet under
gunicorn's gevent workers, which patch ``threading``), so the answer costs the same either way.
``concurrent.futures`` keeps the jobs in order and lets a caller wait for them (tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger("musicrec.auth")


class Outbox:
    """Jobs run one after another, after the request that queued them; a failure is logged."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="musicrec-outbox")

    def submit(self, job: Callable[[], None]) -> None:
        self._executor.submit(job).add_done_callback(_log_failure)

    def wait(self, timeout: float | None = None) -> None:
        """Return once every job queued so far has run."""
        self._executor.submit(_nothing).result(timeout)


def _nothing() -> None:
    return None


def _log_failure(done: Future[None]) -> None:
    error = done.exception()
    if error is not None:
        log.error("a background job failed", exc_info=error)
