"""No request holds a transaction while it waits on Spotify or Last.fm or hashes a password.

Each test starts the slow request in a thread and, while it is in progress, another user rates
an artist (it must finish within ``WRITER_BUDGET_S``) and the database is asked whether any
connection holds a transaction (none may). On SQLite a POST's transaction holds the
database-wide write lock, so a slow upstream or hash kept every writer waiting; on PostgreSQL
it kept a connection idle in a transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
import requests
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, update
from werkzeug.test import TestResponse

from musicrec.config import Settings
from musicrec.db import reset_tokens
from musicrec.db.models import SpotifyLink
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.services import passwords
from musicrec.services.password_reset import token_hash
from tests.spotify_fixtures import AccountsStandIn, LastfmStandIn, _Served, spotify_on
from tests.web.conftest import (
    PASSWORD,
    api_signup,
    bearer,
    csrf_from,
    page_login,
    page_signup,
    unique_name,
)
from tests.web.lock_probes import WRITER_BUDGET_S, open_transactions, timed

UPSTREAM_DELAY_S = 3.0
# How long a hash or a verification takes once a test arms the hasher: what a log-in costs on a
# slow or busy server (the real cost is tens of milliseconds, too short to see a writer wait
# behind it reliably).
HASH_DELAY_S = 2.0
NEW_PASSWORD = "another long passphrase"


@dataclass
class SlowOnce:
    """Wraps a WSGI stand-in: once armed, the next request waits ``delay`` seconds (``started``
    is set as it arrives), as a slow upstream or one honouring a Retry-After would."""

    inner: Callable[..., Any]
    delay: float = UPSTREAM_DELAY_S
    armed: bool = False
    started: threading.Event = field(default_factory=threading.Event)

    def __call__(self, environ: dict[str, object], start_response: object) -> object:
        if self.armed:
            self.armed = False
            self.started.set()
            time.sleep(self.delay)
        return self.inner(environ, start_response)


@pytest.fixture
def slow_lastfm() -> Iterator[SlowOnce]:
    standin = LastfmStandIn()
    slow = SlowOnce(standin)
    served = _Served(slow)
    standin.url = served.url + "2.0/"
    yield slow
    served.stop()


@pytest.fixture
def slow_accounts() -> Iterator[SlowOnce]:
    standin = AccountsStandIn()
    slow = SlowOnce(standin)
    served = _Served(slow)
    standin.url = served.url
    yield slow
    served.stop()


@pytest.fixture
def app_settings(
    settings: Settings, slow_accounts: SlowOnce, slow_lastfm: SlowOnce, prism_url: str
) -> Settings:
    return replace(
        settings,
        rate_limits="off",
        spotify=spotify_on(slow_accounts.inner.url, prism_url),
        lastfm_api_key="test-key",
        lastfm_api_url=slow_lastfm.inner.url,
    )


def other_user_rates(app: Flask, catalogue: dict[str, int]) -> Callable[[], None]:
    """A write by a user who has nothing to do with the slow request."""
    token = api_signup(app.test_client())[1]
    artist = catalogue["Radiohead"]

    def rate() -> None:
        answer = app.test_client().put(
            f"/api/v1/me/ratings/{artist}", json={"rating": 7}, headers=bearer(token)
        )
        assert answer.status_code in (200, 201), answer.get_json()

    return rate


class InThread:
    """Runs ``call`` in a thread and keeps its answer."""

    def __init__(self, call: Callable[[], TestResponse]) -> None:
        self.answer: TestResponse | None = None
        self.thread = threading.Thread(target=self._run, args=(call,))
        self.thread.start()

    def _run(self, call: Callable[[], TestResponse]) -> None:
        self.answer = call()

    def result(self) -> TestResponse:
        self.thread.join(timeout=60)
        assert self.answer is not None
        return self.answer


def assert_nothing_held(db_engine: Engine, rate: Callable[[], None], slow: InThread) -> None:
    """While ``slow`` is in progress: no transaction is open and another writer goes through."""
    held = open_transactions(db_engine)
    seconds = timed(rate)
    assert held == 0, "a transaction stayed open across the slow work"
    assert seconds < WRITER_BUDGET_S, f"another user's rating took {seconds:.2f} s"
    assert slow.thread.is_alive(), "the slow work ended before the writer was timed"


# --- Spotify and Last.fm ---------------------------------------------------------------------


def connected_user_with_recommendations(client: FlaskClient, catalogue: dict[str, int]) -> dict:
    """A page user connected to Spotify (through the accounts stand-in) with a batch of
    recommendations; returns the headers a cookie call needs."""
    page_signup(client)
    start = client.post("/spotify/connect", data={"csrf_token": csrf_from(client, "/account")})
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    headers = {"X-CSRFToken": csrf_from(client, "/account")}
    for name in ("Radiohead", "Björk", "Portishead", "Air"):
        rated = client.put(
            f"/api/v1/me/ratings/{catalogue[name]}", json={"rating": 9}, headers=headers
        )
        assert rated.status_code in (200, 201)
    assert client.post("/api/v1/me/recommendations?n=3", headers=headers).status_code == 201
    return headers


def test_saving_a_playlist_holds_no_lock_while_last_fm_answers(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_lastfm: SlowOnce
) -> None:
    client = app.test_client()
    headers = connected_user_with_recommendations(client, catalogue)
    rate = other_user_rates(app, catalogue)
    slow_lastfm.armed = True

    saving = InThread(lambda: client.post("/api/v1/me/spotify/playlist", headers=headers))
    assert slow_lastfm.started.wait(10)
    assert_nothing_held(db_engine, rate, saving)

    saved = saving.result()
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["playlist"]["tracks"] >= 1


def test_a_token_refresh_holds_no_lock_while_spotify_answers(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_accounts: SlowOnce
) -> None:
    client = app.test_client()
    headers = connected_user_with_recommendations(client, catalogue)
    with transaction(db_engine) as session:
        session.execute(update(SpotifyLink).values(expires_at=utcnow() - timedelta(hours=1)))
    rate = other_user_rates(app, catalogue)
    slow_accounts.armed = True

    saving = InThread(lambda: client.post("/api/v1/me/spotify/playlist", headers=headers))
    assert slow_accounts.started.wait(10)
    assert_nothing_held(db_engine, rate, saving)

    assert saving.result().status_code == 201, saving.result().get_json()


def test_top_songs_hold_no_transaction_while_last_fm_answers(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_lastfm: SlowOnce
) -> None:
    client = app.test_client()
    headers = connected_user_with_recommendations(client, catalogue)
    rate = other_user_rates(app, catalogue)
    slow_lastfm.armed = True
    artist = catalogue["Massive Attack"]

    fetching = InThread(lambda: client.get(f"/api/v1/artists/{artist}/top-songs", headers=headers))
    assert slow_lastfm.started.wait(10)
    assert_nothing_held(db_engine, rate, fetching)

    songs = fetching.result().get_json()["songs"]
    assert [song["title"] for song in songs][:1] == ["Massive Attack song 1"]


# --- passwords -------------------------------------------------------------------------------


class SlowHasher(PasswordHasher):
    """The app's argon2id hasher, with its parameters; once ``armed``, each hash and each
    verification first waits ``HASH_DELAY_S``, asleep, as argon2 itself waits without the GIL:
    as slow as a costly hash, without spending the test run's CPU on one."""

    armed = False

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._wait()
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002
        self._wait()
        return super().verify(hash, password)

    def _wait(self) -> None:
        if self.armed:
            time.sleep(HASH_DELAY_S)


@pytest.fixture
def slow_hashing(app: Flask, monkeypatch: pytest.MonkeyPatch) -> SlowHasher:
    """The app hashes with a ``SlowHasher`` of its own hasher's parameters (so no stored hash
    needs rehashing), not yet armed: signing up and such stay quick."""
    current = passwords._hashing.hasher
    hasher = SlowHasher(
        time_cost=current.time_cost,
        memory_cost=current.memory_cost,
        parallelism=current.parallelism,
        hash_len=current.hash_len,
        salt_len=current.salt_len,
        type=current.type,
    )
    dummy = hasher.hash("not a password")
    monkeypatch.setattr(passwords, "_hashing", passwords._Hashing(hasher, dummy))
    return hasher


def hashing_in_progress(call: Callable[[], TestResponse], hasher: SlowHasher) -> InThread:
    """Arm the hasher, start ``call`` and give it time to reach the hash (the request takes
    milliseconds before it; the hash takes seconds)."""
    hasher.armed = True
    started = InThread(call)
    time.sleep(0.3)
    return started


def test_an_api_log_in_holds_no_lock_while_hashing(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_hashing: SlowHasher
) -> None:
    username = unique_name()
    api_signup(app.test_client(), username)
    rate = other_user_rates(app, catalogue)
    body = {"username": username, "password": PASSWORD}

    logging_in = hashing_in_progress(
        lambda: app.test_client().post("/api/v1/auth/token", json=body), slow_hashing
    )
    assert_nothing_held(db_engine, rate, logging_in)

    assert logging_in.result().status_code == 200


def test_a_page_log_in_holds_no_lock_while_hashing(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_hashing: SlowHasher
) -> None:
    client = app.test_client()
    username = page_signup(client)
    client.post("/logout", data={"csrf_token": csrf_from(client, "/account")})
    rate = other_user_rates(app, catalogue)

    logging_in = hashing_in_progress(lambda: page_login(client, username), slow_hashing)
    assert_nothing_held(db_engine, rate, logging_in)

    assert logging_in.result().status_code == 302


def test_a_sign_up_holds_no_lock_while_hashing(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_hashing: SlowHasher
) -> None:
    rate = other_user_rates(app, catalogue)
    name = unique_name()
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}

    signing_up = hashing_in_progress(
        lambda: app.test_client().post("/api/v1/auth/signup", json=body), slow_hashing
    )
    assert_nothing_held(db_engine, rate, signing_up)

    assert signing_up.result().status_code == 201


def test_a_password_change_holds_no_lock_while_hashing(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_hashing: SlowHasher
) -> None:
    client = app.test_client()
    username = page_signup(client)
    rate = other_user_rates(app, catalogue)
    form = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "csrf_token": csrf_from(client, "/account"),
    }

    changing = hashing_in_progress(
        lambda: client.post("/account/password", data=form), slow_hashing
    )
    assert_nothing_held(db_engine, rate, changing)

    assert changing.result().status_code == 302
    slow_hashing.armed = False  # (the checks after it need no slow hash)
    assert page_login(app.test_client(), username, NEW_PASSWORD).status_code == 302


def test_a_password_reset_holds_no_lock_while_hashing(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_hashing: SlowHasher
) -> None:
    user_id = api_signup(app.test_client())[0]
    token = "a-reset-token-for-this-test"
    with transaction(db_engine) as session:
        reset_tokens.add_reset(session, user_id, token_hash(token), utcnow() + timedelta(minutes=5))
    rate = other_user_rates(app, catalogue)
    client = app.test_client()
    form = {
        "new_password": NEW_PASSWORD,
        "csrf_token": csrf_from(client, f"/reset-password/{token}"),
    }

    resetting = hashing_in_progress(
        lambda: client.post(f"/reset-password/{token}", data=form), slow_hashing
    )
    assert_nothing_held(db_engine, rate, resetting)

    assert resetting.result().status_code == 302


def test_deleting_an_account_holds_no_lock_while_hashing(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_hashing: SlowHasher
) -> None:
    client = app.test_client()
    username = page_signup(client)
    rate = other_user_rates(app, catalogue)
    form = {"password": PASSWORD, "csrf_token": csrf_from(client, "/account")}

    deleting = hashing_in_progress(lambda: client.post("/account/delete", data=form), slow_hashing)
    assert_nothing_held(db_engine, rate, deleting)

    assert deleting.result().status_code == 302
    slow_hashing.armed = False
    assert page_login(app.test_client(), username).status_code == 401


def test_completing_the_connection_holds_no_lock_while_spotify_answers(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], slow_accounts: SlowOnce
) -> None:
    """The OAuth callback exchanges the code (the accounts service) and reads the user's name
    (the Web API) before it opens the transaction that stores the tokens."""
    client = app.test_client()
    page_signup(client)
    start = client.post("/spotify/connect", data={"csrf_token": csrf_from(client, "/account")})
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    rate = other_user_rates(app, catalogue)
    slow_accounts.armed = True

    completing = InThread(lambda: client.get(f"{back.path}?{back.query}"))
    assert slow_accounts.started.wait(10)
    assert_nothing_held(db_engine, rate, completing)

    assert completing.result().status_code == 302
    assert "connected" in client.get("/account").get_data(as_text=True)
