"""Model changes as users see them: a new rating changes that user's recommendations at once
(fold-in, same model version); a newly published version is served by every web worker of a
live server within seconds, with no failed request while requests keep coming, on SQLite and
PostgreSQL, with versions of realistic size (read in the background, then swapped in)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from musicrec.config import Settings
from tests.factories import seed_two_tastes, train_in_transaction
from tests.realistic_model import add_realistic_catalogue, publish_realistic_model
from tests.web.conftest import api_signup, bearer

LOAD_THREADS = 4
SWAP_SECONDS = 3.0  # every worker serves a new version within this (it takes well under 1 s)


def test_a_new_rating_changes_the_users_recommendations_at_once(
    client: FlaskClient, db_engine: Engine, app_settings: Settings
) -> None:
    first_taste, second_taste = seed_two_tastes(db_engine)
    train_in_transaction(db_engine, app_settings.model_dir, factors=4, iterations=8)
    _user_id, token = api_signup(client)

    def rate_and_recommend(artist_id: int) -> tuple[str, set[int]]:
        client.put(f"/api/v1/me/ratings/{artist_id}", json={"rating": 9}, headers=bearer(token))
        batch = client.post("/api/v1/me/recommendations?n=3", headers=bearer(token)).get_json()
        return batch["model_version"], {item["artist"]["id"] for item in batch["recommendations"]}

    version, picks = rate_and_recommend(first_taste[0])
    assert picks and picks <= set(first_taste)
    client.delete(f"/api/v1/me/ratings/{first_taste[0]}", headers=bearer(token))

    same_version, new_picks = rate_and_recommend(second_taste[0])

    assert same_version == version  # no retraining: the next request folds the rating in
    assert new_picks and new_picks <= set(second_taste)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, method: str = "GET", token: str | None = None, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


@contextmanager
def live_server(settings_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """``musicrec serve`` with two gevent workers on the test's database and model folder."""
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    env = {**os.environ, **settings_env, "MUSICREC_RATE_LIMITS": "off"}
    process = subprocess.Popen(
        [sys.executable, "-m", "musicrec", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            _call(base + "/api/v1/health")
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail((tmp_path / "serve.log").read_text())
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_publishing_under_load_fails_no_request_and_every_worker_swaps(
    db_engine: Engine, settings: Settings, settings_env: dict[str, str], tmp_path: Path
) -> None:
    first_taste, second_taste = seed_two_tastes(db_engine, listeners=40, artists_per_taste=40)
    artists = add_realistic_catalogue(db_engine)
    publish_realistic_model(settings.model_dir, artists, seed=0)
    with live_server(settings_env, tmp_path) as base:
        tokens = []
        for n in range(LOAD_THREADS):
            username = f"loadtester{n}"
            body = {"username": username, "email": f"{username}@example.com"}
            answer = _call(
                base + "/api/v1/auth/signup",
                "POST",
                body={**body, "password": "a long enough passphrase"},
            )
            token = answer["token"]
            _call(base + f"/api/v1/me/ratings/{first_taste[n]}", "PUT", token, {"rating": 8})
            tokens.append(token)
        failures: list[str] = []
        seen: list[tuple[float, str]] = []
        stop = threading.Event()

        def load(token: str) -> None:
            calls = 0
            while not stop.is_set():
                calls += 1
                try:
                    if calls % 3 == 0:
                        sent_at = time.monotonic()  # a request sent later must see the swap
                        health = _call(base + "/api/v1/health")
                        seen.append((sent_at, health["model_version"]))
                    elif calls % 3 == 1:
                        _call(base + "/api/v1/me/recommendations?n=1", "POST", token)
                    else:
                        _call(base + f"/api/v1/artists/{second_taste[calls % 40]}/similar?n=5")
                except Exception as error:  # noqa: BLE001 - every failure is counted
                    failures.append(repr(error))

        threads = [threading.Thread(target=load, args=(token,)) for token in tokens]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        published = []
        for seed in (1, 2):
            version = publish_realistic_model(settings.model_dir, artists, seed=seed)
            published.append((time.monotonic(), version))
            time.sleep(1.5)
        time.sleep(SWAP_SECONDS + 3.0)
        stop.set()
        for thread in threads:
            thread.join()

    assert failures == []
    assert len(seen) > 20
    last_at, last_version = published[-1]
    later = [version for at, version in seen if at > last_at + SWAP_SECONDS]
    assert later and set(later) == {last_version}  # every worker serves it
