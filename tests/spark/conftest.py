"""Spark fixtures: one local SparkSession per module, a real standalone cluster (a master and
two workers on 127.0.0.1, started with PySpark's own ``spark-class``), SQLite only.

Every Spark process binds to 127.0.0.1 (SPARK_LOCAL_IP): this machine has no routable name.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from musicrec.engine import spark_als
from tests.conftest import _unavailable
from tests.web.conftest import app, app_settings, catalogue, client  # noqa: F401 (fixtures)

os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
TEST_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.driver.memory": "1g",
}
# Executors on the test cluster: small, one core each (the workers offer 1 core, 1g).
CLUSTER_CONF = {**TEST_CONF, "spark.executor.memory": "512m", "spark.cores.max": "2"}
WORKERS = 2
START_TIMEOUT = 120.0


def require_spark() -> None:
    if not spark_als.spark_available():
        _unavailable(spark_als.INSTALL_HINT)
    if shutil.which("java") is None:
        _unavailable("no Java runtime on the PATH (the Spark tests need Java 17)")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Spark tests train once per database; SQLite is enough (PostgreSQL reads the same way)."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local[2] SparkSession shared by a module's tests."""
    require_spark()
    session = spark_als.spark_session("local[2]", conf=TEST_CONF)
    try:
        yield session
    finally:
        session.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _alive_workers(webui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{webui_port}/json/", timeout=2) as answer:
            state = json.load(answer)
    except OSError:
        return 0
    return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop each launched JVM by its process group: TERM, then KILL after a grace period."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:PORT``: a master and two 1-core, 1 GB workers, stopped afterwards."""
    require_spark()
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    folder = tmp_path_factory.mktemp("spark-cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_class.parent.parent),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(folder / "work"),
    }
    port, webui = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    commands = [
        [
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(webui)),
        ]
    ] + [
        [
            "org.apache.spark.deploy.worker.Worker",
            master_url,
            *("--host", "127.0.0.1", "--cores", "1", "--memory", "1g"),
            *("--webui-port", str(_free_port()), "--work-dir", str(folder / f"work-{n}")),
        ]
        for n in range(WORKERS)
    ]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for number, arguments in enumerate(commands):
            log = open(folder / f"process-{number}.log", "wb")  # noqa: SIM115 - kept by Popen
            processes.append(
                subprocess.Popen(
                    [str(spark_class), *arguments],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, stopped as one
                )
            )
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while _alive_workers(webui) < WORKERS:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                logs = "\n".join(p.read_text()[-2000:] for p in sorted(folder.glob("*.log")))
                pytest.fail(f"the Spark cluster did not start with {WORKERS} workers:\n{logs}")
            time.sleep(0.5)
        yield master_url
    finally:
        _stop(processes)
