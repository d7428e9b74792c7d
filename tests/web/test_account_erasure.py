"""Deleting an account over HTTP: what the account added privately is gone for everyone, and
its id is never handed to a new account (SQLite reused the highest id)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from musicrec import create_app
from musicrec.config import Settings
from tests.web.conftest import PASSWORD, api_signup, bearer, csrf_from, page_login, unique_name

PRIVATE_NAME = "Quillwort Ensemble"


def _delete_account(app: Flask, username: str) -> None:
    """Log in with a browser of its own and delete the account on the account page."""
    browser = app.test_client()
    assert page_login(browser, username).status_code == 302
    token = csrf_from(browser, "/account")
    answer = browser.post("/account/delete", data={"password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)


def _found(client: FlaskClient, headers: dict[str, str] | None = None) -> list[str]:
    answer = client.get("/api/v1/artists?q=quillwort", headers=headers or {})
    assert answer.status_code == 200
    return [artist["name"] for artist in answer.get_json()["artists"]]


@pytest.fixture
def start_worker(app_settings: Settings, app: Flask) -> Iterator[Callable[[], FlaskClient]]:
    """Another app on the same database: another web worker, or the server restarted (each
    builds its own search index)."""
    started: list[Flask] = []

    def start() -> FlaskClient:
        worker = create_app(app_settings)
        worker.config["TESTING"] = True
        started.append(worker)
        return worker.test_client()

    yield start
    for worker in started:
        worker.extensions["musicrec.engine"].dispose()


def test_a_deleted_accounts_private_addition_is_gone_for_everyone(
    app: Flask,
    client: FlaskClient,
    start_worker: Callable[[], FlaskClient],
    catalogue: dict[str, int],
) -> None:
    username = unique_name()
    _owner_id, token = api_signup(client, username)
    added = client.post("/api/v1/artists", json={"name": PRIVATE_NAME}, headers=bearer(token))
    assert added.status_code == 201
    artist_id = added.get_json()["artist"]["id"]
    other_worker = start_worker()
    assert _found(client, bearer(token)) == [PRIVATE_NAME]
    assert _found(other_worker, bearer(token)) == [PRIVATE_NAME]  # its index holds it

    _delete_account(app, username)

    _new_id, newcomer = api_signup(client)
    for worker in (client, other_worker, start_worker()):
        assert _found(worker, bearer(newcomer)) == []
        assert _found(worker) == []  # a visitor
        assert worker.get(f"/api/v1/artists/{artist_id}").status_code == 404
        answer = worker.get(f"/api/v1/artists/{artist_id}", headers=bearer(newcomer))
        assert answer.status_code == 404


def test_a_new_account_never_gets_a_deleted_accounts_id(app: Flask, client: FlaskClient) -> None:
    first_id, _token = api_signup(client)
    newest = unique_name()
    newest_id, _token = api_signup(client, newest)
    assert newest_id > first_id

    _delete_account(app, newest)
    next_id, _token = api_signup(client)

    assert next_id > newest_id
