"""The slow-body attack of issue 18 (defect 1), for the web tests and the attack suite.

Many sockets from one address each send a POST's headers announcing a large body
(``Content-Length: 100000``), then one byte of it, then nothing. Without a deadline on reading
bodies and a cap per address, each socket holds one of a worker's connections for as long as
the client likes.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

DECLARED_BODY = 100_000
OTHER_ADDRESS = "127.0.0.2"  # another client: Linux routes all of 127.0.0.0/8 to loopback


@dataclass
class SlowBodies:
    """The attack's sockets; ``refused``: those the server closed at once, before the attack
    even finished opening them."""

    sockets: list[socket.socket]
    refused: int = 0

    def closed_by_server(self, within: float) -> int:
        """How many sockets the server answered and closed (EOF or reset) within ``within`` s."""
        deadline = time.monotonic() + within
        pending = list(self.sockets)
        closed = 0
        while pending and time.monotonic() < deadline:
            still = []
            for sock in pending:
                if _server_closed(sock):
                    closed += 1
                else:
                    still.append(sock)
            pending = still
            if pending:
                time.sleep(0.2)
        return closed


def _server_closed(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (whatever it answered first)."""
    sock.setblocking(False)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


@contextmanager
def slow_bodies(
    base_url: str, count: int, path: str = "/api/v1/auth/token"
) -> Iterator[SlowBodies]:
    """Open ``count`` sockets from 127.0.0.1, each sending headers and one byte of the body;
    they stay open (and silent) until the block ends."""
    parts = urlsplit(base_url)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {DECLARED_BODY}\r\n\r\n{{"
    ).encode()
    with ExitStack() as stack:
        attack = SlowBodies([])
        for _ in range(count):
            try:
                sock = stack.enter_context(
                    socket.create_connection((parts.hostname, parts.port), timeout=10)
                )
                sock.sendall(head)
            except OSError:  # refused or reset at once: the server's cap at work
                attack.refused += 1
                continue
            attack.sockets.append(sock)
        yield attack
        for sock in attack.sockets:
            with suppress(OSError):
                sock.close()


def health_seconds(base_url: str, source: str = OTHER_ADDRESS, timeout: float = 5.0) -> float:
    """Seconds ``/api/v1/health`` takes to answer 200 to a fresh connection from ``source``.

    A time-out or another status raises: the server did not answer that client.
    """
    parts = urlsplit(base_url)
    assert parts.hostname and parts.port
    started = time.perf_counter()
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=timeout, source_address=(source, 0)
    )
    try:
        connection.request("GET", "/api/v1/health")
        answer = connection.getresponse()
        answer.read()
    finally:
        connection.close()
    if answer.status != 200:
        raise AssertionError(f"health answered {answer.status}")
    return time.perf_counter() - started
