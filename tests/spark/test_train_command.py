"""``musicrec train --engine spark``: without PySpark it says how to install it; killed
mid-fit (SIGKILL), it leaves the current model serving and no half-written version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from musicrec.cli import main
from musicrec.config import Settings
from musicrec.engine.artifacts import ModelStore
from tests.factories import train_in_transaction
from tests.spark.conftest import require_spark

REPO_SRC = Path(__file__).resolve().parents[2] / "src"


def test_without_pyspark_the_command_says_how_to_install_it(
    settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)

    result = CliRunner().invoke(main, ["train", "--engine", "spark"], env=settings_env)

    assert result.exit_code == 1
    assert "pip install -e '.[spark]'" in result.output


def test_spark_options_need_the_spark_engine(settings_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["train", "--spark-master", "local[1]"], env=settings_env)

    assert result.exit_code == 2
    assert "need --engine spark" in result.output


@pytest.mark.spark
@pytest.mark.slow
def test_a_killed_spark_training_leaves_the_current_model(
    db_engine: Engine, settings: Settings, settings_env: dict[str, str], catalogue: dict
) -> None:
    require_spark()
    current = train_in_transaction(db_engine, settings.model_dir, factors=2, iterations=2)
    checkpoints = settings.instance_dir / "spark-checkpoints"
    env = {
        **os.environ,
        **settings_env,
        "PYTHONPATH": os.pathsep.join([str(REPO_SRC), os.environ.get("PYTHONPATH", "")]),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    command = [sys.executable, "-m", "musicrec", "train", "--engine", "spark"]
    command += ["--spark-master", "local[1]", "--iterations", "200"]
    training = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the JVM joins this process group and dies with it
    )
    try:
        deadline = time.monotonic() + 180
        # Spark writes checkpoints only once the fit is under way.
        while not any(checkpoints.glob("run-*/checkpoints/*/*")):
            assert training.poll() is None, "the training ended before it could be killed"
            assert time.monotonic() < deadline, "the Spark fit never started"
            time.sleep(0.2)
        os.killpg(training.pid, signal.SIGKILL)
        training.wait(timeout=30)
    finally:
        if training.poll() is None:
            os.killpg(training.pid, signal.SIGKILL)
            training.wait()

    store = ModelStore(settings.model_dir)
    assert store.versions() == [current.version]
    assert [p.name for p in settings.model_dir.iterdir()] == [current.version]
    assert store.current().version == current.version  # type: ignore[union-attr]
