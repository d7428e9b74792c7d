from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from musicrec.cli import main
from musicrec.db.models import Rating
from musicrec.db.session import make_engine
from tests.factories import write_csv_pair


def _invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _ratings(url: str) -> list[tuple[int, int]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(Rating.id, Rating.rating).order_by(Rating.id)).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_init_db_twice(settings_env: dict[str, str]) -> None:
    assert _invoke(settings_env, "init-db").exit_code == 0
    again = _invoke(settings_env, "init-db")

    assert again.exit_code == 0
    assert "latest" in again.output or "migration" in again.output


def test_import_reports_counts_and_shows_no_progress_bar_off_a_terminal(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    _invoke(settings_env, "init-db")

    result = _invoke(settings_env, "import-lastfm", str(write_csv_pair(tmp_path / "data")))

    assert result.exit_code == 0, result.output
    assert "Imported 3 users, 5 artists and 6 ratings (7 rows)" in result.output
    assert "it/s" not in result.output and "row/s" not in result.output


def test_malformed_import_exits_non_zero_naming_file_and_line_and_changes_nothing(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    _invoke(settings_env, "init-db")
    _invoke(settings_env, "import-lastfm", str(write_csv_pair(tmp_path / "good")))
    before = _ratings(settings_env["MUSICREC_DATABASE_URL"])
    bad = write_csv_pair(tmp_path / "bad", listens=[(7, 1, 5), (7, 2, "lots")])

    result = _invoke(settings_env, "import-lastfm", str(bad))

    assert result.exit_code != 0
    assert "user_artist_scrobbles.csv, line 3" in result.output
    assert _ratings(settings_env["MUSICREC_DATABASE_URL"]) == before


def test_import_needs_a_migrated_database(settings_env: dict[str, str], tmp_path: Path) -> None:
    result = _invoke(settings_env, "import-lastfm", str(write_csv_pair(tmp_path)))

    assert result.exit_code != 0
    assert "musicrec init-db" in result.output


def test_setup_without_starter_data_says_where_to_get_it(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    result = _invoke(settings_env, "setup", "--data", str(tmp_path / "nowhere"))

    assert result.exit_code != 0
    assert "hetrec-2011" in result.output and "STARTER_DATA" in result.output


def test_setup_is_fast_to_repeat(settings_env: dict[str, str], tmp_path: Path) -> None:
    data = str(write_csv_pair(tmp_path / "data"))
    first = _invoke(settings_env, "setup", "--data", data)
    second = _invoke(settings_env, "setup", "--data", data)

    assert first.exit_code == 0 and second.exit_code == 0
    assert "imported before: nothing to do" in second.output


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_run_serves_with_a_worker_beside_and_sigterm_stops_both(
    settings_env: dict[str, str],
) -> None:
    assert _invoke(settings_env, "init-db").exit_code == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = subprocess.Popen(
        [sys.executable, "-m", "musicrec", "run", "--port", str(port), "--workers", "1"],
        env={**os.environ, **settings_env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except OSError:
                assert run.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in children]
        assert sorted(command[3].decode() for command in commands) == ["serve", "worker"]

        run.send_signal(signal.SIGTERM)

        assert run.wait(timeout=60) == 0
        for pid in children:
            assert not Path(f"/proc/{pid}").exists()
    finally:
        if run.poll() is None:
            run.kill()
