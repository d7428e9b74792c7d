"""HTTP calls that survive a busy or flaky service, within bounds.

A 429 waits the ``Retry-After`` it was given, but never more than ``max_wait`` seconds (a longer
wait gives up at once: a worker must not hang for hours); 5xx answers, timeouts and refused
connections are retried with exponential backoff a bounded number of times. Every request sent
is counted (``sent``), retries included.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

log = logging.getLogger("musicrec.integrations")

DEFAULT_TIMEOUT = 10.0  # seconds, for connecting and for each read


class UpstreamError(RuntimeError):
    """A service did not answer usefully: ``status`` is its HTTP status (None: no answer)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class RetryPolicy:
    attempts: int = 3  # tries of one request against 5xx and timeouts
    backoff: float = 0.5  # seconds before the first retry, doubled each time
    max_wait: float = 30.0  # the longest Retry-After honoured
    rate_limit_retries: int = 3  # how many 429s in a row one request waits out


@dataclass
class RetryingHttp:
    """A ``requests`` session with the retry policy and a request counter."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = DEFAULT_TIMEOUT
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    sent: int = 0  # requests sent, retries included
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """The answer to ``method url`` once it is not a 429, 5xx or timeout; UpstreamError
        when the retries run out. Other statuses (4xx) are returned for the caller to read."""
        kwargs.setdefault("timeout", self.timeout)
        failures = limited = 0
        while True:
            with self._lock:
                self.sent += 1
            try:
                response = self.session.request(method, url, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as error:
                failures += 1
                if failures >= self.policy.attempts:
                    raise UpstreamError(f"{method} {_path(url)}: no answer ({error})") from error
                self._back_off(failures)
                continue
            if response.status_code == 429:
                limited += 1
                wait = retry_after(response)
                if limited > self.policy.rate_limit_retries or wait > self.policy.max_wait:
                    raise UpstreamError(
                        f"{method} {_path(url)}: rate limited (Retry-After {wait:g} s)", 429
                    )
                log.info("rate limited on %s: waiting %.1f s", _path(url), wait)
                self.sleep(wait)
                continue
            if response.status_code >= 500:
                failures += 1
                if failures >= self.policy.attempts:
                    raise UpstreamError(
                        f"{method} {_path(url)}: answered {response.status_code}",
                        response.status_code,
                    )
                self._back_off(failures)
                continue
            return response

    def _back_off(self, failures: int) -> None:
        self.sleep(self.policy.backoff * 2 ** (failures - 1))


def retry_after(response: requests.Response) -> float:
    """The seconds a 429 asks to wait (1 when the header is missing or not a number)."""
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _path(url: str) -> str:
    """The URL without its query (which may hold an API key) for messages and logs."""
    return url.split("?", 1)[0]
