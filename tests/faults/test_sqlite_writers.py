"""20 concurrent writers on SQLite through ``musicrec serve``: no error reaches a user.

Each writer signs up, logs in again (a read, then a write: the new session), rates artists and
asks for recommendations, all at once with the others. Write transactions must wait their turn
(busy timeout with BEGIN IMMEDIATE), never answer 503 (issue 14, defect 2).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests

from tests.factories import write_csv_pair
from tests.live_server import instance_env, prepare_instance, serving

pytestmark = [
    pytest.mark.fault,
    pytest.mark.slow,
]

WRITERS = 20
PASSWORD = "a long enough passphrase"


def _writer(base_url: str, number: int, start: threading.Barrier, statuses: list[int]) -> None:
    name = f"writer{number}"
    with requests.Session() as http:
        start.wait(timeout=60)
        answer = http.post(
            f"{base_url}/api/v1/auth/signup",
            json={"username": name, "email": f"{name}@example.org", "password": PASSWORD},
            timeout=180,
        )
        statuses.append(answer.status_code)
        if answer.status_code != 201:
            return
        token = answer.json()["token"]
        for _ in range(2):
            login = http.post(
                f"{base_url}/api/v1/auth/token",
                json={"username": name, "password": PASSWORD},
                timeout=180,
            )
            statuses.append(login.status_code)
        headers = {"Authorization": f"Bearer {token}"}
        for artist in range(1, 6):
            rated = http.put(
                f"{base_url}/api/v1/me/ratings/{artist}",
                json={"rating": 1 + (number + artist) % 10},
                headers=headers,
                timeout=180,
            )
            statuses.append(rated.status_code)
        picks = http.post(f"{base_url}/api/v1/me/recommendations?n=3", headers=headers, timeout=180)
        statuses.append(picks.status_code)


def test_concurrent_writers_get_no_error(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = instance_env(
        instance, f"sqlite:///{instance / 'musicrec.sqlite3'}", MUSICREC_RATE_LIMITS="off"
    )
    prepare_instance(env, write_csv_pair(tmp_path / "data"), train=False)
    statuses: list[int] = []
    with serving(env, workers=2) as server:
        start = threading.Barrier(WRITERS)
        writers = [
            threading.Thread(target=_writer, args=(server.base_url, number, start, statuses))
            for number in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=900)

    errors = sorted(status for status in statuses if status >= 400)
    assert len(statuses) == WRITERS * 9, f"{len(statuses)} answers; errors {errors}"
    assert not errors, f"{len(errors)} of {len(statuses)} answers were errors: {errors}"
