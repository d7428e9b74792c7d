"""Authentication and credential storage, checked against OWASP ASVS 5.0 (chapters 6, 11, 16).

Access control, CSRF, redirects and XSS are in test_security_access.py; configuration, errors
and rate limits in test_security_config.py; sessions in test_sessions.py; headers and cookies in
test_headers.py.
"""

from __future__ import annotations

import logging
import statistics
import time

import pytest
from argon2 import Type, extract_parameters
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from musicrec.db.models import User
from musicrec.services.passwords import common_passwords
from tests.web.conftest import (
    PASSWORD,
    api_signup,
    bearer,
    page_login,
    page_signup,
    post_signup_form,
    unique_name,
)
from tests.web.test_security_support import mask_csrf, post_form, token_cookie


def _stored_hash(engine: Engine, username: str) -> str:
    with engine.connect() as connection:
        value = connection.execute(
            select(User.password_hash).where(User.username == username)
        ).scalar_one()
    assert value
    return value


def _api_signup_with(client: FlaskClient, username: str, password: str):
    return client.post(
        "/api/v1/auth/signup",
        json={"username": username, "email": f"{username}@example.com", "password": password},
    )


def _api_login(client: FlaskClient, login: str, password: str):
    return client.post("/api/v1/auth/token", json={"username": login, "password": password})


# -- 6.3.8: no account enumeration through log-in ----------------------------------------------


def test_asvs_6_3_8_unknown_user_and_wrong_password_answer_alike_in_the_api(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    """ASVS 6.3.8: the API answers an unknown user, a wrong password and a password-less
    (imported) account with the same status and body."""
    api_signup(client, "known")

    answers = [
        _api_login(client, "nobody-here", "some wrong password"),
        _api_login(client, "known", "some wrong password"),
        _api_login(client, "known@example.com", "some wrong password"),
        _api_login(client, "lastfm:0", "some wrong password"),  # a starter user, no password
    ]

    assert {answer.status_code for answer in answers} == {401}
    assert len({answer.get_data() for answer in answers}) == 1
    assert len({tuple(sorted(answer.headers.keys())) for answer in answers}) == 1


def test_asvs_6_3_8_unknown_user_and_wrong_password_answer_alike_on_the_login_page(
    client: FlaskClient,
) -> None:
    """ASVS 6.3.8: the log-in page answers an unknown user and a wrong password alike (but
    for the username the form keeps, which is what each visitor typed)."""
    api_signup(client, "known")

    unknown = page_login(client, "nobody-here", "some wrong password")
    wrong = page_login(client, "known", "some wrong password")

    def alike(page: str, typed: str) -> str:
        assert f'value="{typed}"' in page
        return mask_csrf(page).replace(f'value="{typed}"', 'value="(typed)"')

    assert unknown.status_code == wrong.status_code == 401
    assert alike(unknown.get_data(as_text=True), "nobody-here") == alike(
        wrong.get_data(as_text=True), "known"
    )
    assert "Unknown username or wrong password." in wrong.get_data(as_text=True)


def test_asvs_6_3_8_unknown_user_and_wrong_password_take_the_same_time(
    client: FlaskClient,
) -> None:
    """ASVS 6.3.8: an unknown user costs as much time as a wrong password (both verify an
    argon2 hash). Medians of interleaved tries, with a generous tolerance."""
    api_signup(client, "timed")

    def elapsed(login: str) -> float:
        start = time.perf_counter()
        response = _api_login(client, login, "some wrong password")
        took = time.perf_counter() - start
        assert response.status_code == 401
        return took

    elapsed("timed"), elapsed("nobody")  # warm up
    unknown, wrong = [], []
    for _ in range(7):
        unknown.append(elapsed("nobody-at-all"))
        wrong.append(elapsed("timed"))

    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 <= ratio <= 2.0, (unknown, wrong)


# -- 6.2.8 / 6.2.9: long and Unicode passwords, never truncated --------------------------------

LONG_PASSWORDS = [
    pytest.param("correct horse battery staple " * 4, id="116-ascii"),
    pytest.param("ß" * 30 + "Пароль-密码-パスワード-🎸🎹🥁" * 4 + "x" * 40, id="unicode-emoji"),
    pytest.param("é" * 200, id="200-accented"),
]


@pytest.mark.parametrize("password", LONG_PASSWORDS)
def test_asvs_6_2_8_and_6_2_9_long_unicode_passwords_are_accepted_and_never_truncated(
    app: Flask, client: FlaskClient, password: str
) -> None:
    """ASVS 6.2.9 (64+ characters) and 6.2.8 (any Unicode, verified exactly as typed): a
    password differing only in its 100th (or last) character is refused."""
    username = unique_name("long")
    assert len(password) >= 100

    created = _api_signup_with(client, username, password)
    assert created.status_code == 201, created.get_json()

    assert _api_login(client, username, password).status_code == 200
    assert page_login(app.test_client(), username, password).status_code == 302
    for position in (63, 71, 72, 99, len(password) - 1):
        changed = password[:position] + ("Z" if password[position] != "Z" else "Y")
        changed += password[position + 1 :]
        assert _api_login(client, username, changed).status_code == 401, position
    assert _api_login(client, username, password[:99]).status_code == 401
    assert _api_login(client, username, password + "!").status_code == 401


def test_asvs_6_2_9_a_password_of_64_characters_signs_up_through_the_page(
    app: Flask, client: FlaskClient
) -> None:
    """ASVS 6.2.9: the sign-up form takes a 64+ character password, the log-in form too."""
    password = "sixty-four characters at least, of which the last one matters: 1"
    assert len(password) >= 64
    username = unique_name("page")

    response = post_signup_form(client, username, password)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert page_login(app.test_client(), username, password).status_code == 302
    assert page_login(app.test_client(), username, password[:-1] + "2").status_code == 401


def test_asvs_6_2_8_unicode_passwords_match_whatever_the_normal_form(client: FlaskClient) -> None:
    """ASVS 6.2.8: a password typed in another Unicode normal form (é vs e + combining acute)
    still matches; a different accent does not."""
    composed = "caf\u00e9 au lait, s'il vous pla\u00eet"
    decomposed = "cafe\u0301 au lait, s'il vous plai\u0302t"
    username = unique_name("nfc")

    assert _api_signup_with(client, username, composed).status_code == 201

    assert _api_login(client, username, decomposed).status_code == 200
    assert _api_login(client, username, composed.replace("\u00e9", "\u00e8")).status_code == 401


# -- 6.2.4: common passwords are refused -------------------------------------------------------


def test_asvs_6_2_4_a_common_password_list_is_shipped() -> None:
    """ASVS 6.2.4: the repository ships a list of common passwords (at least the top 3000)."""
    passwords = common_passwords()

    assert len(passwords) >= 3000
    assert {"password", "12345678", "iloveyou", "qwertyuiop"} <= passwords


@pytest.mark.parametrize("password", ["password", "12345678", "iloveyou", "Sunshine", "QWERTYUIOP"])
def test_asvs_6_2_4_common_passwords_are_refused(
    app: Flask, client: FlaskClient, password: str
) -> None:
    """ASVS 6.2.4: sign-up (API and page) and password change refuse common passwords."""
    username = unique_name("common")
    api = _api_signup_with(client, username, password)
    assert api.status_code == 422  # well formed (the schema admits it), refused by policy
    assert api.get_json()["error"]["field"] == "password"
    assert "common" in api.get_json()["error"]["message"]

    page = post_signup_form(client, username, password)
    assert page.status_code == 400
    assert "most common" in page.get_data(as_text=True)

    browser = app.test_client()
    page_signup(browser)
    change = post_form(
        browser, "/account/password", {"current_password": PASSWORD, "new_password": password}
    )
    assert change.status_code == 400
    assert token_cookie(browser)  # still signed in: nothing changed


def test_asvs_6_2_4_the_username_and_email_are_refused_as_password(client: FlaskClient) -> None:
    """ASVS 6.2.11/6.2.4 (issue 4's policy): the username or email is not a password."""
    for password in ("longusername", "LongUserName@example.com"):
        response = client.post(
            "/api/v1/auth/signup",
            json={
                "username": "longusername",
                "email": "LongUserName@example.com",
                "password": password,
            },
        )
        assert response.status_code == 422, password
        assert response.get_json()["error"]["field"] == "password"


# -- 11.4.2: argon2id at or above OWASP's minimum ----------------------------------------------


def test_asvs_11_4_2_passwords_are_stored_as_argon2id_at_owasp_minimum(
    app: Flask, client: FlaskClient, db_engine: Engine
) -> None:
    """ASVS 11.4.2: the stored hash is argon2id, m >= 19 MiB, t >= 2, p >= 1, salted; the
    password itself is stored nowhere."""
    first, second = unique_name("hash"), unique_name("hash")
    api_signup(client, first)
    api_signup(client, second)
    browser = app.test_client()
    page_login(browser, first)
    post_form(
        browser,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )

    hashes = [_stored_hash(db_engine, first), _stored_hash(db_engine, second)]
    for stored in hashes:
        parameters = extract_parameters(stored)
        assert stored.startswith("$argon2id$")
        assert parameters.type is Type.ID
        assert parameters.memory_cost >= 19 * 1024  # KiB
        assert parameters.time_cost >= 2
        assert parameters.parallelism >= 1
        assert parameters.salt_len >= 16
        assert "passphrase" not in stored
    assert hashes[0] != hashes[1]  # two users, same password at first: different salts


# -- 16.3.x: security events are logged, secrets never are ------------------------------------


def test_asvs_16_3_logins_failures_and_denials_are_logged_without_secrets(
    app: Flask, catalogue: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.3.1-16.3.3 and 16.2.5: log-ins, failed log-ins, log-outs and denied calls are
    logged; no password and no session token ever appears in the log."""
    caplog.set_level(logging.DEBUG)
    secret_password = "log-test passphrase 7d1e"
    wrong_password = "wrong passphrase e88f"
    new_password = "new log-test passphrase 51c0"
    client = app.test_client()
    username = unique_name("logged")
    created = _api_signup_with(client, username, secret_password)
    signup_token = created.get_json()["token"]
    token = _api_login(client, username, secret_password).get_json()["token"]
    _api_login(client, username, wrong_password)
    _api_login(client, "no-such-user", wrong_password)
    browser = app.test_client()
    page_login(browser, username, wrong_password)
    page_login(browser, username, secret_password)
    cookie = token_cookie(browser)
    assert cookie
    client.get("/api/v1/me/ratings")  # anonymous: denied
    client.get("/api/v1/me/ratings", headers=bearer("forged." + token[6:]))  # denied
    browser.put(f"/api/v1/me/ratings/{catalogue['Air']}", json={"rating": 5})  # no CSRF: denied
    post_form(
        browser,
        "/account/password",
        {"current_password": secret_password, "new_password": new_password},
    )
    client.post("/api/v1/auth/logout", headers=bearer(token))
    client.get("/api/v1/me", headers=bearer(signup_token))

    records = caplog.records
    text = "\n".join(
        f"{record.name} {record.levelname} {record.getMessage()} {record.exc_text or ''}"
        for record in records
    )
    for secret in (secret_password, wrong_password, new_password, token, signup_token, cookie):
        assert secret not in text
    for fragment in (token[-20:], signup_token[-20:], cookie[-20:]):
        assert fragment not in text  # not even a piece of a token
    messages = [record.getMessage() for record in records]
    assert any("login user_id=" in m for m in messages), "successful log-ins are logged"
    assert sum("login failed" in m for m in messages) >= 3, "failed log-ins are logged"
    assert any("denied" in m for m in messages), "denied API calls are logged"
    assert any("csrf" in m.lower() or "CSRF" in m for m in messages), "CSRF denials are logged"
    assert any("password changed" in m for m in messages)
    assert any("logout" in m for m in messages)


def test_asvs_16_3_2_denied_pages_are_logged(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    """ASVS 16.3.2: a refused page (no session, or an ended one) leaves a log record."""
    caplog.set_level(logging.INFO)
    browser = app.test_client()
    page_signup(browser)
    cookie = token_cookie(browser)
    assert cookie
    post_form(browser, "/logout", {}, page="/")
    caplog.clear()

    app.test_client().get("/account")
    replay = app.test_client()
    replay.set_cookie("musicrec_token", cookie, path="/")
    replay.get("/account")

    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if "denied" in m.lower() or "refused" in m.lower()]) >= 2, (
        messages
    )
    assert all(cookie not in m for m in messages)
