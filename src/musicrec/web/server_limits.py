"""How much of the server one client may hold, and for how long (issue 18, defect 1).

A gevent worker holds at most ``worker_connections`` connections. Without limits, one client
sending a body's first byte and then nothing on enough sockets held all of them. So:

- one address holds at most ``connections_per_address`` of a worker's connections (a tenth by
  default); further ones are answered 429 and closed at once. Behind a reverse proxy every
  connection comes from the proxy, so the cap is off unless set: it is the proxy's job there;
- a request's body must arrive within ``body_timeout`` seconds of its headers (the headers
  themselves within gunicorn's ``keepalive``); later, the app answers 408 and the connection
  closes.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import gevent
from werkzeug.exceptions import RequestTimeout

DEFAULT_WORKER_CONNECTIONS = 2000
DEFAULT_BODY_TIMEOUT = 10.0
ADDRESS_SHARE = 10  # one address may hold 1/ADDRESS_SHARE of a worker's connections
IPV6_CLIENT_PREFIX = 64  # an IPv6 client is given a whole /64: count it as one address

T = TypeVar("T")


@dataclass(frozen=True)
class ServerLimits:
    """The connection limits of one ``musicrec serve``, read from the environment."""

    worker_connections: int = DEFAULT_WORKER_CONNECTIONS
    connections_per_address: int = DEFAULT_WORKER_CONNECTIONS // ADDRESS_SHARE  # 0: no cap
    body_timeout: float = DEFAULT_BODY_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServerLimits:
        connections = max(
            1, int(environ.get("MUSICREC_WORKER_CONNECTIONS") or DEFAULT_WORKER_CONNECTIONS)
        )
        behind_proxy = int(environ.get("MUSICREC_PROXY_HOPS", 0) or 0) > 0
        default_cap = 0 if behind_proxy else max(1, connections // ADDRESS_SHARE)
        return cls(
            worker_connections=connections,
            connections_per_address=max(
                0, int(environ.get("MUSICREC_CONNECTIONS_PER_ADDRESS", default_cap))
            ),
            body_timeout=max(
                0.1, float(environ.get("MUSICREC_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT))
            ),
        )


def client_key(address: object) -> str | None:
    """Whom a connection from ``address`` (a socket peer address) counts against: the IPv4
    address, or the IPv6 /64; ``None`` for a Unix socket, which has no client address."""
    if not isinstance(address, tuple) or not address:
        return None
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


class DeadlineBody:
    """A request body (gunicorn's ``wsgi.input``) that the app must read before a deadline.

    A read still waiting at the deadline raises werkzeug's ``RequestTimeout``, which Flask
    answers 408 (an ``OSError`` would reach the app as a client disconnection, a 400), and
    ``on_timeout`` marks the connection to be closed, as the rest of the body may still come.
    """

    def __init__(self, body: Any, seconds: float, on_timeout: Callable[[], None]) -> None:
        self._body = body
        self._deadline = time.monotonic() + seconds
        self._on_timeout = on_timeout

    @property
    def failed(self) -> bool:
        """gunicorn closes a connection whose body failed to read: keep telling it."""
        return bool(getattr(self._body, "failed", False))

    def read(self, size: int | None = None) -> bytes:
        return self._before_deadline(self._body.read, size)

    def readline(self, size: int | None = None) -> bytes:
        return self._before_deadline(self._body.readline, size)

    def readlines(self, size: int | None = None) -> list[bytes]:
        return self._before_deadline(self._body.readlines, size)

    def __iter__(self) -> DeadlineBody:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def _before_deadline(self, read: Callable[[int | None], T], size: int | None) -> T:
        remaining = self._deadline - time.monotonic()
        if remaining > 0:
            timer = gevent.Timeout(remaining)
            timer.start()
            try:
                return read(size)
            except gevent.Timeout as expired:
                if expired is not timer:
                    raise
            finally:
                timer.close()
        self._on_timeout()
        raise RequestTimeout("The request body did not arrive in time.")
