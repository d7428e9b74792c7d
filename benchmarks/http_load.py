"""Bounded HTTP load on 127.0.0.1: wrk at saturation, and an open-loop client at a fixed rate.

wrk (Debian package) runs closed-loop: 16 connections each send the next request when the
previous answer arrives, which measures throughput at saturation. Latency under a fixed
arrival rate needs an open-loop client (wrk2 is not packaged in Debian), so ``fixed_rate``
issues requests on a schedule (request i at start + i / rate) from asyncio, as wrk2 does:
16 keep-alive connections, request i on connection i mod 16, sent when due or, if that
connection still waits for its previous answer, as soon as that arrives.
``fixed_rate_new_connections`` sends each request on a connection of its own
(``Connection: close``), the harder case of clients that do not keep connections. Both measure
latency from the scheduled time, so a slow server cannot slow the arrivals down and hide its
queueing (coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from measure import BENCHMARKS

HOST = "127.0.0.1"
WRK_SCRIPT = BENCHMARKS / "wrk" / "rotate.lua"
REQUEST_TIMEOUT_S = 10.0
WRK_TIMEOUT_S = 2.0  # wrk's own default: an answer later than this counts as a time-out


@dataclass(frozen=True)
class Load:
    """What to request: ``recommend`` with Bearer tokens, or ``get`` with paths."""

    mode: str
    lines: list[str]

    def request(self, number: int, port: int, keep_alive: bool = False) -> bytes:
        line = self.lines[number % len(self.lines)]
        if self.mode == "recommend":
            head = (
                f"POST /api/v1/me/recommendations?n=10 HTTP/1.1\r\nAuthorization: Bearer {line}"
                "\r\nContent-Length: 0"
            )
        else:
            head = f"GET {line} HTTP/1.1"
        connection = "keep-alive" if keep_alive else "close"
        return f"{head}\r\nHost: {HOST}:{port}\r\nConnection: {connection}\r\n\r\n".encode()


def wrk(port: int, load: Load, folder: Path, seconds: int, connections: int = 16) -> dict:
    """Requests a second at saturation, latency percentiles, errors, and each connection's
    share: wrk with one thread per connection, so every connection is one client's loop."""
    lines = folder / f"wrk-{load.mode}.txt"
    lines.write_text("\n".join(load.lines) + "\n")
    command = [
        "wrk",
        f"-t{connections}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{WRK_TIMEOUT_S:.0f}s",
        "-s",
        str(WRK_SCRIPT),
        f"http://{HOST}:{port}",
        "--",
        load.mode,
        str(lines),
    ]
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    found = [line for line in finished.stdout.splitlines() if line.startswith("WRK ")]
    figures = json.loads(found[-1][4:])
    return {
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        **{f"{name}_ms": figures[f"{name}_us"] / 1000 for name in ("p50", "p90", "p99", "max")},
        "errors": figures["status_errors"] + figures["socket_errors"],
        "timeouts": figures["timeouts"],
        "requests": figures["requests"],
        "connections": connections,
        "seconds": seconds,
        "spread": connection_spread(figures["connections"]),
    }


def connection_spread(connections: list[dict]) -> dict:
    """The slowest client against the fastest: the fewest and most answers one connection
    got, and the lowest and highest per-connection p50 and p99 (ms). A fair server gives
    every connection about the same share; a greedy one serves some again and again."""
    answers = [connection["requests"] for connection in connections]
    p50s = [connection["p50_us"] / 1000 for connection in connections]
    p99s = [connection["p99_us"] / 1000 for connection in connections]
    return {
        "fewest_requests": min(answers),
        "most_requests": max(answers),
        "p50_ms": [min(p50s), max(p50s)],
        "p99_ms": [min(p99s), max(p99s)],
        "max_ms": max(connection["max_us"] for connection in connections) / 1000,
    }


async def _one(port: int, payload: bytes) -> bool:
    """Send one request on a new connection; True when the answer is 2xx."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(payload)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/") else b"0"
    return status.startswith(b"2")


async def _read_answer(reader: asyncio.StreamReader) -> tuple[bool, bool]:
    """Read one HTTP/1.1 answer (Content-Length or chunked body): (2xx, server closes)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _sep, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    ok = status_line.split(" ")[1].startswith("2")
    return ok, headers.get("connection") == "close"


def _summary(
    rate: float,
    seconds: float,
    latencies: list[float],
    late: list[float],
    errors: int,
    **extra: int,
) -> dict:
    values = np.asarray(latencies) * 1000
    return {
        "rate": rate,
        "seconds": seconds,
        "requests": len(latencies),
        **extra,
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
        "max_ms": float(values.max()),
        # How late the client itself sent: the figures above measure the server only while
        # this stays small (a busy client would add its own delay to every latency).
        "client_late_p99_ms": float(np.percentile(np.asarray(late or [0.0]) * 1000, 99)),
        "errors": errors,
    }


async def _keep_alive_rate(
    port: int, load: Load, rate: float, seconds: float, connections: int
) -> dict:
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    total = int(rate * seconds)
    latencies: list[float] = []
    # How late each request was sent when its connection was free by its due time (a
    # connection still waiting for an answer delays the next request: that is the server's).
    late: list[float] = []
    errors = 0

    async def client(first: int) -> None:
        nonlocal errors
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for number in range(first, total, connections):
            due = start + number / rate
            free = loop.time() <= due
            await asyncio.sleep(max(0.0, due - loop.time()))
            if free:
                late.append(loop.time() - due)
            try:
                if stream is None:
                    stream = await asyncio.open_connection(HOST, port)
                reader, writer = stream
                writer.write(load.request(number, port, keep_alive=True))
                ok, closing = await asyncio.wait_for(_read_answer(reader), REQUEST_TIMEOUT_S)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                ok, closing = False, True
            latencies.append(loop.time() - due)
            errors += not ok
            if closing and stream is not None:  # the server ends a connection now and then
                stream[1].close()
                stream = None
        if stream is not None:
            stream[1].close()

    await asyncio.gather(*(client(first) for first in range(connections)))
    return _summary(rate, seconds, latencies, late, errors, connections=connections)


def fixed_rate(port: int, load: Load, rate: float, seconds: float, connections: int = 16) -> dict:
    """p50 / p99 / max latency (from the scheduled time) and errors at ``rate`` requests a
    second over ``connections`` keep-alive connections (as wrk2 -R rate -c connections)."""
    return asyncio.run(_keep_alive_rate(port, load, rate, seconds, connections))


async def _new_connections_rate(port: int, load: Load, rate: float, seconds: float) -> dict:
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    latencies: list[float] = []
    late: list[float] = []
    errors = 0

    async def scheduled(number: int, due: float) -> None:
        nonlocal errors
        late.append(loop.time() - due)
        try:
            ok = await asyncio.wait_for(_one(port, load.request(number, port)), REQUEST_TIMEOUT_S)
        except (OSError, TimeoutError):
            ok = False
        latencies.append(loop.time() - due)
        errors += not ok

    tasks = []
    for number in range(int(rate * seconds)):
        due = start + number / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        tasks.append(asyncio.create_task(scheduled(number, due)))
    await asyncio.gather(*tasks)
    return _summary(rate, seconds, latencies, late, errors)


def fixed_rate_new_connections(port: int, load: Load, rate: float, seconds: float) -> dict:
    """As ``fixed_rate``, but every request on a new connection (``Connection: close``)."""
    return asyncio.run(_new_connections_rate(port, load, rate, seconds))


def sequential(port: int, load: Load, requests: int) -> list[float]:
    """Seconds of each of ``requests`` requests sent one after another (an idle server)."""

    async def run() -> list[float]:
        times = []
        for number in range(requests):
            start = time.perf_counter()
            if not await _one(port, load.request(number, port)):
                raise RuntimeError("a sequential request failed")
            times.append(time.perf_counter() - start)
        return times

    return asyncio.run(run())


def settle(port: int, within_s: float = 60.0) -> float:
    """Wait until the server answers /api/v1/health in under 100 ms again (requests a load
    left queued in the listen backlog are served first); the seconds it took."""
    load = Load("get", ["/api/v1/health"])
    start = time.perf_counter()
    while time.perf_counter() - start < within_s:
        if sequential(port, load, 1)[0] < 0.1:
            break
        time.sleep(0.5)
    return time.perf_counter() - start
