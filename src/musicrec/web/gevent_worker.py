"""gunicorn's gevent worker with the limits of ``server_limits``: a cap on the connections one
address holds, a deadline on reading request bodies, and enough open files for its connections;
and a fair share of the worker for every keep-alive connection.

gunicorn has neither limit (its ``timeout`` is the worker heartbeat, which gevent workers
always meet), so they are added here, at the two points its async worker offers: ``handle``
(one accepted connection) and ``handle_request`` (one parsed request, body not yet read).

Fairness (issue 19): gunicorn serves a keep-alive connection in a loop, reading the next
request as soon as the answer is sent. A gevent read only yields to the event loop when no
data is waiting; a fast client (wrk) has sent its next request by then, so a request that never
waits on I/O (a search: no query, CPU only) let one connection be served again and again while
the worker's other connections, their requests long arrived, waited unseen for up to two
seconds. After each answer the greenlet now gives up its turn until the event loop has polled
for I/O once (``gevent.sleep`` with a positive time; ``sleep(0)`` may resume it before the
poll), so every ready connection is served one request in turn. And a connection is closed
after ``REQUESTS_PER_CONNECTION`` requests, so connections that all landed in one worker spread
out over the workers as their clients reconnect.
"""

from __future__ import annotations

import os
import resource
from collections import Counter
from contextlib import suppress
from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker

from musicrec.web.server_limits import DeadlineBody, ServerLimits, client_key

FILES_BESIDES_CONNECTIONS = 256  # database connections, the model's files, logs, the listener
# How long a greenlet waits after an answer: any positive time means "after the next I/O poll"
TURN_S = 1e-6
# A keep-alive connection is closed after this many requests (as nginx's keepalive_requests),
# so its client's next connection goes to whichever worker accepts first: the less busy one.
# Both workers accept from one socket, and when wrk opened its 16 connections at once the
# worker that had just run took them all, leaving the other core idle until they reconnect.
REQUESTS_PER_CONNECTION = 100
REFUSAL = (
    b"HTTP/1.1 429 Too Many Requests\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 41\r\nConnection: close\r\n\r\n"
    b"Too many connections from your address.\r\n"
)


def raise_open_files_limit(needed: int) -> int:
    """Lift the soft limit on open files towards ``needed`` (up to the hard limit), as a
    default of 1,024 would refuse connections long before ``worker_connections``; the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return needed
    ceiling = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
    return ceiling


class LimitedGeventWorker(GeventWorker):  # type: ignore[misc]
    """The ``gevent`` worker class of ``musicrec serve``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = ServerLimits.from_env(os.environ)
        self.connections_by_client: Counter[str] = Counter()
        self.refusing: set[str] = set()  # addresses at their cap, logged once each time

    def init_process(self) -> None:
        needed = self.worker_connections + FILES_BESIDES_CONNECTIONS
        if raise_open_files_limit(needed) < needed:
            self.log.warning("open files limited below %d: fewer connections than set", needed)
        super().init_process()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        """Serve one connection, unless its address already holds its share of this worker."""
        cap = self.limits.connections_per_address
        key = client_key(addr) if cap else None
        if key is None:
            super().handle(listener, client, addr)
            return
        if self.connections_by_client[key] >= cap:
            if key not in self.refusing:
                self.refusing.add(key)
                self.log.warning("%s holds %d connections: refusing more", key, cap)
            self._refuse(client)
            return
        self.connections_by_client[key] += 1
        try:
            super().handle(listener, client, addr)
        finally:
            self._release(key)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        """Serve one request, then let every other ready connection have its turn."""
        if req.req_number >= REQUESTS_PER_CONNECTION:
            req.must_close = True  # answered with "Connection: close"; the client reconnects
        served = self._handle_with_deadline(listener_name, req, sock, addr)
        gevent.sleep(TURN_S)
        return served

    def _handle_with_deadline(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        """Serve one request whose body the app must read within ``body_timeout`` from now.

        What the app left unread, gunicorn drains from the plain body afterwards, within its
        ``keepalive`` (a time-out there closes the connection silently).
        """
        body = req.body
        if body is None:
            return super().handle_request(listener_name, req, sock, addr)

        def close_after_answer() -> None:
            req.must_close = True

        req.body = DeadlineBody(body, self.limits.body_timeout, close_after_answer)
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            req.body = body

    def _release(self, key: str) -> None:
        self.refusing.discard(key)
        self.connections_by_client[key] -= 1
        if self.connections_by_client[key] <= 0:
            del self.connections_by_client[key]

    @staticmethod
    def _refuse(client: Any) -> None:
        """Answer 429 without reading anything (or waiting for the client), then close."""
        with suppress(OSError):
            client.setblocking(False)
            client.send(REFUSAL)
        with suppress(OSError):
            client.close()
