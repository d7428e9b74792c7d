"""Failed log-ins are limited without letting anyone lock an account's owner out (OWASP: device
cookies), and every worker counts them alike (they live in the database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from musicrec.config import Settings
from musicrec.web.auth.login_limits import DEVICE_COOKIE
from tests.web.conftest import PASSWORD, api_signup, bearer, csrf_from
from tests.web.test_security_support import built_app

LIMIT = 5


@pytest.fixture
def limited_app(app_settings: Settings, db_engine: Engine) -> Iterator[Flask]:
    with built_app(app_settings, rate_limits=f"{LIMIT}/minute") as application:
        yield application


def _log_in(client: FlaskClient, login: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/token",
        json={"username": login, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _lock_out(app: Flask, login: str, first_octet: int = 10) -> list[int]:
    """Wrong passwords for ``login`` from many addresses, as a botnet would send them."""
    attacker = app.test_client()
    return [
        _log_in(attacker, login, "wrong guess", f"{first_octet}.9.0.{n}").status_code
        for n in range(LIMIT + 3)
    ]


def test_the_owner_logs_in_from_a_known_device_while_the_account_is_under_attack(
    limited_app: Flask,
) -> None:
    owner = limited_app.test_client()
    api_signup(owner, "victim")
    assert _log_in(owner, "victim", PASSWORD, "192.0.2.10").status_code == 200
    assert owner.get_cookie(DEVICE_COOKIE) is not None

    attack = _lock_out(limited_app, "victim")
    newcomer = _log_in(limited_app.test_client(), "victim", PASSWORD, "192.0.2.99")
    known = _log_in(owner, "victim", PASSWORD, "192.0.2.11")  # a new address, same browser

    assert attack[:LIMIT] == [401] * LIMIT and set(attack[LIMIT:]) == {429}
    assert newcomer.status_code == 429  # untrusted clients wait for the window
    assert known.status_code == 200


def test_a_device_cookie_of_another_account_does_not_help(limited_app: Flask) -> None:
    mallory = limited_app.test_client()
    api_signup(mallory, "mallory")
    api_signup(limited_app.test_client(), "alice")
    assert _log_in(mallory, "mallory", PASSWORD, "192.0.2.20").status_code == 200

    answers = [_log_in(mallory, "alice", "guess", f"10.8.0.{n}").status_code for n in range(8)]

    assert answers[:LIMIT] == [401] * LIMIT and set(answers[LIMIT:]) == {429}


def test_a_known_device_is_limited_by_its_own_failures(limited_app: Flask) -> None:
    owner = limited_app.test_client()
    api_signup(owner, "forgetful")
    assert _log_in(owner, "forgetful", PASSWORD, "192.0.2.30").status_code == 200

    answers = [_log_in(owner, "forgetful", "old", f"10.7.0.{n}").status_code for n in range(8)]

    assert answers[:LIMIT] == [401] * LIMIT and set(answers[LIMIT:]) == {429}


def test_every_worker_counts_the_same_failures(limited_app: Flask, app_settings: Settings) -> None:
    api_signup(limited_app.test_client(), "shared")
    with built_app(app_settings, rate_limits=f"{LIMIT}/minute") as other_worker:
        first = [
            _log_in(limited_app.test_client(), "shared", "x", f"10.6.0.{n}").status_code
            for n in range(3)
        ]
        second = [
            _log_in(other_worker.test_client(), "shared", "x", f"10.6.1.{n}").status_code
            for n in range(3)
        ]
    assert first == [401, 401, 401]
    assert second == [401, 401, 429]  # the sixth failure overall is over the limit of five


def test_wrong_current_passwords_on_the_account_page_do_not_lock_the_log_in(
    limited_app: Flask,
) -> None:
    client = limited_app.test_client()
    _user, token = api_signup(client, "careful")
    for _ in range(LIMIT + 2):
        client.post(
            "/account/password",
            data={
                "current_password": "not it",
                "new_password": "another long passphrase",
                "csrf_token": csrf_from(client, "/account"),
            },
            headers=bearer(token),
        )
    fresh = limited_app.test_client()
    assert _log_in(fresh, "careful", PASSWORD, "192.0.2.40").status_code == 200
