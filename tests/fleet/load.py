"""GET load through the proxy, with each request's outcome kept for the accounting after a kill.

Every request carries an ``X-Load-Id`` header that nginx writes into its access log beside the
nodes it tried, so a failed request can be matched to the node it was on.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Outcome:
    load_id: str
    path: str
    started: float  # time.time(), comparable with nginx's $msec
    finished: float
    status: int | None  # None: no HTTP answer at all (connection refused, reset, timeout)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


class GetLoad:
    """``clients`` threads sending GETs (``paths`` in turn) until :meth:`stop`."""

    def __init__(
        self, base_url: str, paths: list[str], headers: dict[str, str], clients: int
    ) -> None:
        self.base_url = base_url
        self.paths = paths
        self.headers = headers
        self.clients = clients
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ids = itertools.count()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        return list(self.outcomes)

    def wait_for(self, condition: Callable[[list[Outcome]], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition(self.outcomes):
                    return
            time.sleep(0.05)
        raise AssertionError(f"the load did not reach its condition within {timeout:.0f}s")

    def _client(self, number: int) -> None:
        with requests.Session() as session:
            for turn in itertools.count():
                if self._stop.is_set():
                    return
                path = self.paths[(number + turn) % len(self.paths)]
                load_id = f"c{number}-{next(self._ids)}"
                started = time.time()
                try:
                    answer = session.get(
                        self.base_url + path,
                        headers={**self.headers, "X-Load-Id": load_id},
                        timeout=30,
                    )
                    outcome = Outcome(load_id, path, started, time.time(), answer.status_code)
                except requests.RequestException as error:
                    outcome = Outcome(load_id, path, started, time.time(), None, repr(error))
                with self._lock:
                    self.outcomes.append(outcome)
