"""Timing statistics, bounded child processes with their peak memory, free ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
PYTHON = sys.executable
RESULT_PREFIX = "RESULT "


def summary(seconds: Sequence[float]) -> dict[str, float]:
    """median_s and p99_s of timings in seconds, and how many there were."""
    values = np.asarray(seconds, dtype=np.float64)
    return {
        "median_s": float(np.median(values)),
        "p99_s": float(np.percentile(values, 99)),
        "runs": int(values.size),
    }


def repeat(function: Callable[[], Any], runs: int) -> list[float]:
    """Seconds taken by each of ``runs`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def child_environment(**extra: str) -> dict[str, str]:
    """This environment with the worktree's src/ first on the path (so children run the code
    being measured) and Spark bound to the loopback interface."""
    env = dict(os.environ)
    src = str(REPO / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    env.update(extra)
    return env


@dataclass(frozen=True)
class ChildRun:
    """What a child process reported (its RESULT line), its wall time and peak memory."""

    result: dict[str, Any]
    wall_s: float
    peak_rss_mb: float  # the child's and its reaped descendants' (os.wait4's ru_maxrss)


def run_child(arguments: Sequence[str], timeout: float, **env: str) -> ChildRun:
    """Run ``python arguments...`` in its own process group, killed (group) after ``timeout``.

    The child prints one ``RESULT {json}`` line; the rest of its output is dropped (the last
    error line of stderr goes into the exception when it fails). Its peak
    memory comes from ``os.wait4``, the per-child form of getrusage(RUSAGE_CHILDREN)."""
    name = " ".join(arguments)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as output, tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [PYTHON, *arguments],
            stdout=output,
            stderr=errors,
            env=child_environment(**env),
            cwd=REPO,
            start_new_session=True,
            text=True,
        )
        deadline = time.monotonic() + timeout
        pid, status, usage = 0, 0, None
        try:
            while pid == 0:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} took more than {timeout:.0f} s")
                time.sleep(0.05)
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            process.returncode = os.waitstatus_to_exitcode(status)
        finally:
            stop_group(process)
        wall = time.perf_counter() - start
        output.seek(0)
        lines = [line for line in output.read().splitlines() if line.startswith(RESULT_PREFIX)]
        errors.seek(0)
        complaint = _last_error(errors.read())
    if process.returncode != 0:
        raise RuntimeError(f"{name} exited with {process.returncode}: {complaint}")
    if not lines:
        raise RuntimeError(f"{name} reported no result")
    assert usage is not None
    return ChildRun(json.loads(lines[-1][len(RESULT_PREFIX) :]), wall, usage.ru_maxrss / 1024)


# What a Spark child says when its JVM gateway failed to start or answer (seen on a loaded
# 2-core machine), rather than when the job itself failed.
SPARK_GATEWAY_ERRORS = ("Py4JNetworkError", "Java gateway process exited", "Py4JError")


def run_spark_child(arguments: Sequence[str], timeout: float, **env: str) -> ChildRun:
    """``run_child`` for a Spark process: started once more when its JVM gateway failed (the
    failure is printed, never hidden); any other failure is raised at once. Native BLAS (the
    system's OpenBLAS, which Spark's netlib loads) runs one thread per task, as Spark's
    linear algebra guide advises: Spark already runs a task per core."""
    env = {"OPENBLAS_NUM_THREADS": "1", **env}
    try:
        return run_child(arguments, timeout, **env)
    except RuntimeError as error:
        if not any(marker in str(error) for marker in SPARK_GATEWAY_ERRORS):
            raise
        print(f"   Spark's JVM gateway failed, starting it once more: {error}", flush=True)
        return run_child(arguments, timeout, **env)


def _last_error(stderr: str) -> str:
    """The most telling line of a failed child's error output."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "Exception" in line:
            return line.strip()[:500]
    return lines[-1].strip()[:500] if lines else ""


def report(result: dict[str, Any]) -> None:
    """What a child prints for ``run_child``."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, as the reports print them."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def own_peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stop_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a child started with ``start_new_session`` and everything in its process group."""
    if process.returncode is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    else:
        with suppress(ProcessLookupError):  # descendants left behind (e.g. a JVM)
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def background(
    command: Sequence[str], log: Path, timeout: float, **env: str
) -> Iterator[subprocess.Popen]:
    """A server in its own process group, stopped (group) on exit or after ``timeout``."""
    with log.open("w") as output:
        process = subprocess.Popen(
            list(command),
            stdout=output,
            stderr=subprocess.STDOUT,
            env=child_environment(**env),
            cwd=REPO,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout

    def watchdog() -> None:
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(1.0)
        stop_group(process)

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        yield process
    finally:
        stop_group(process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
