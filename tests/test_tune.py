"""``musicrec tune``: a real run killed with SIGKILL and resumed, one study per engine and
data, and ``musicrec train`` using the study's best parameters."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from click.testing import CliRunner

import musicrec
from musicrec.cli import main
from musicrec.datasets import load_lastfm
from musicrec.engine.artifacts import ModelStore
from musicrec.engine.tuning import GRACE_SECONDS, newest_study, study_name
from musicrec.engine.validation import split_listens
from tests.engine.test_evaluate import tiny_listening_data
from tests.factories import write_csv_pair


def _study(dataset: Path) -> str:
    """The name ``musicrec tune --dataset`` gives the study of this dataset."""
    return study_name("embedded", split_listens(load_lastfm(dataset)).data_key)


def _tiny_dataset(folder: Path, seed: int = 0) -> Path:
    data = tiny_listening_data(seed)
    artists = [(int(a), f"Artist {a}") for a in data.artist_ids]
    listens = [
        (int(u), int(i), int(n))
        for u, i, n in zip(data.user_ids, data.item_ids, data.listens, strict=True)
    ]
    return write_csv_pair(folder, artists=artists, listens=listens)


def _states(storage: str, name: str) -> dict[int, tuple[str, float | None, dict]]:
    study = optuna.load_study(study_name=name, storage=storage)
    return {t.number: (t.state.name, t.value, t.params) for t in study.trials}


def _running_with_heartbeat(database: Path) -> set[int]:
    """Numbers of the running trials that have sent a heartbeat (read from Optuna's tables:
    its API tells a trial's heartbeat only by failing it once stale)."""
    with (
        contextlib.suppress(sqlite3.OperationalError),
        contextlib.closing(sqlite3.connect(database, timeout=10)) as connection,
    ):
        rows = connection.execute(
            "SELECT t.number FROM trials t JOIN trial_heartbeats h ON h.trial_id = t.trial_id"
            " WHERE t.state = 'RUNNING'"
        ).fetchall()
        return {number for (number,) in rows}
    return set()


def _tune(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "musicrec", "tune", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_a_killed_run_resumes_the_same_study_keeping_its_finished_trials(tmp_path: Path) -> None:
    dataset = _tiny_dataset(tmp_path / "data")
    name = _study(dataset)
    database = tmp_path / "study.sqlite3"
    storage = f"sqlite:///{database}"
    src = str(Path(musicrec.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": src, "MUSICREC_INSTANCE_DIR": str(tmp_path / "inst")}
    args = ("--dataset", str(dataset), "--storage", storage)
    run = _tune(env, *args, "--trials", "10000")
    deadline = time.monotonic() + 120
    completed = 0
    while completed < 2 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
        with contextlib.suppress(KeyError):  # until the study is created
            completed = sum(s == "COMPLETE" for s, _, _ in _states(storage, name).values())
    assert completed >= 2, run.communicate()[0].decode()
    # Kill during a trial that has sent its first heartbeat: a trial's staleness is told by its
    # heartbeat (one killed before its first beat stays RUNNING; see docs/evaluation.md).
    while not _running_with_heartbeat(database) and time.monotonic() < deadline + 60:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    assert run.wait(timeout=30) == -signal.SIGKILL
    killed = _states(storage, name)
    # Which trials were running with a heartbeat when killed (read after the kill: a trial may
    # have ended, and the next begun, between the check above and the signal).
    beating = _running_with_heartbeat(database)
    assert any(row[0] == "RUNNING" for row in killed.values())
    finished = {n: row for n, row in killed.items() if row[0] == "COMPLETE"}
    assert set(s for s, _, _ in killed.values()) <= {"COMPLETE", "RUNNING", "WAITING"}
    time.sleep(GRACE_SECONDS + 1)  # the killed trial's heartbeat is now stale

    resumed = _tune(env, *args, "--resume", "--trials", str(len(finished) + 3))
    output = resumed.communicate(timeout=300)[0].decode()
    assert resumed.returncode == 0, output
    assert f"{len(finished)} before this run" in output

    after = _states(storage, name)
    assert optuna.get_all_study_names(storage) == [name]  # the same study, not a new one
    for number, row in finished.items():
        assert after[number] == row  # finished trials kept as they were
    new = {n: row for n, row in after.items() if n not in killed}
    assert sum(row[0] == "COMPLETE" for row in new.values()) == 3
    assert min(new) > max(killed)  # numbering continues
    # The trial that was running (and beating) when killed is recorded as failed.
    assert all(after[n][0] == "FAIL" for n in beating)
    assert {n for n, row in after.items() if row[0] == "RUNNING"} <= set(killed) - beating


def _invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_tune_on_the_database_then_train_uses_the_best_parameters(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    dataset = _tiny_dataset(tmp_path / "data")
    _invoke(settings_env, "init-db")
    _invoke(settings_env, "import-lastfm", str(dataset))

    tuned = _invoke(settings_env, "tune", "--trials", "3")
    assert tuned.exit_code == 0, tuned.output
    assert "3 completed in all" in tuned.output
    again = _invoke(settings_env, "tune", "--trials", "3")
    assert again.exit_code != 0 and "--resume" in again.output

    storage = f"sqlite:///{Path(settings_env['MUSICREC_INSTANCE_DIR']).resolve()}/tuning.sqlite3"
    name = newest_study(storage, "embedded")
    assert name is not None and name in tuned.output  # keyed by the database's ratings
    best = optuna.load_study(study_name=name, storage=storage).best_params
    trained = _invoke(settings_env, "train")
    assert trained.exit_code == 0 and "Using the tuned parameters" in trained.output
    store = ModelStore(Path(settings_env["MUSICREC_MODEL_DIR"]))
    used = store.meta(store.versions()[0])["settings"]
    assert used["factors"] == best["factors"] and used["confidence"] == best["confidence"]
    assert np.isclose(used["alpha"], best["alpha"])

    flagged = _invoke(settings_env, "train", "--factors", "5")
    assert flagged.exit_code == 0
    used = store.meta(store.versions()[0])["settings"]
    assert used["factors"] == 5 and used["confidence"] == best["confidence"]


def test_a_study_per_dataset_and_the_same_dataset_resumes(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    first, second = _tiny_dataset(tmp_path / "a"), _tiny_dataset(tmp_path / "b", seed=1)
    storage = f"sqlite:///{tmp_path / 'study.sqlite3'}"
    for dataset in (first, second):
        ran = _invoke(
            settings_env, "tune", "--dataset", str(dataset), "--storage", storage, "--trials", "1"
        )
        assert ran.exit_code == 0, ran.output
    assert sorted(optuna.get_all_study_names(storage)) == sorted([_study(first), _study(second)])
    copy = _tiny_dataset(tmp_path / "copy")  # the same data in another folder: the same study
    resumed = _invoke(
        settings_env,
        "tune",
        "--dataset",
        str(copy),
        "--storage",
        storage,
        "--trials",
        "2",
        "--resume",
    )
    assert resumed.exit_code == 0, resumed.output
    assert f"Study {_study(first)}" in resumed.output and "(1 before this run)" in resumed.output
    assert len(optuna.get_all_study_names(storage)) == 2


def test_evaluate_uses_only_the_study_tuned_on_its_selection_group(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    first, second = _tiny_dataset(tmp_path / "a"), _tiny_dataset(tmp_path / "b", seed=1)
    storage = f"sqlite:///{tmp_path / 'study.sqlite3'}"
    tuned = _invoke(
        settings_env, "tune", "--dataset", str(first), "--storage", storage, "--trials", "1"
    )
    assert tuned.exit_code == 0, tuned.output

    other = _invoke(
        settings_env, "evaluate", "--dataset", str(second), "--storage", storage, "--seeds", "3"
    )
    assert other.exit_code != 0 and _study(second) in other.output  # names the missing one
    same = _invoke(
        settings_env, "evaluate", "--dataset", str(first), "--storage", storage, "--seeds", "3"
    )
    assert same.exit_code == 0, same.output
    assert "users split with seed 0: 30 select" in same.output
