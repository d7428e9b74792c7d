"""Fixtures for HTTP-level tests: an app per test on SQLite and PostgreSQL, and clients that
sign up, log in and send CSRF tokens the way a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from itertools import count

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert

from musicrec import create_app
from musicrec.config import Settings
from musicrec.db.models import Artist, Rating, User
from musicrec.names import fold_name

PASSWORD = "a long enough passphrase"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
_numbers = count(1)

CATALOGUE = [
    "Radiohead",
    "Björk",
    "Sigur Rós",
    "Portishead",
    "Massive Attack",
    "Daft Punk",
    "Air",
    "Boards of Canada",
    "Aphex Twin",
    "Muse",
    "Coldplay",
    "Keane",
    "The Beatles",
    "The Rolling Stones",
    "Pink Floyd",
    "Led Zeppelin",
    "Guns N' Roses",
    "AC/DC",
    "Metallica",
    "Iron Maiden",
]


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return replace(settings, rate_limits="off")


@pytest.fixture
def app(app_settings: Settings, db_engine: Engine) -> Iterator[Flask]:
    application = create_app(app_settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["musicrec.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def catalogue(db_engine: Engine) -> dict[str, int]:
    """A small catalogue, name -> id, with a few starter ratings so popularity has an order."""
    ids: dict[str, int] = {}
    with db_engine.begin() as connection:
        for name in CATALOGUE:
            ids[name] = connection.execute(
                insert(Artist)
                .values(name=name, name_key=fold_name(name), lastfm_url=None)
                .returning(Artist.id)
            ).scalar_one()
        for listener in range(3):
            user_id = connection.execute(
                insert(User)
                .values(username=f"lastfm:{listener}", username_key=f"lastfm:{listener}")
                .returning(User.id)
            ).scalar_one()
            for position, name in enumerate(CATALOGUE[: 8 + 4 * listener]):
                connection.execute(
                    insert(Rating).values(
                        user_id=user_id,
                        artist_id=ids[name],
                        rating=10 - position % 10,
                        source="lastfm",
                    )
                )
    return ids


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}{next(_numbers)}"


def csrf_from(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    match = _CSRF_META.search(page) or _CSRF_FIELD.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def api_signup(client: FlaskClient, username: str | None = None) -> tuple[int, str]:
    """Sign up through the API; returns (user id, Bearer token)."""
    username = username or unique_name()
    response = client.post(
        "/api/v1/auth/signup",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return body["user"]["id"], body["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_signup_form(client: FlaskClient, username: str, password: str = PASSWORD):
    """Submit the sign-up form as a browser would (CSRF token from the page)."""
    token = csrf_from(client, "/signup")
    return client.post(
        "/signup",
        data={
            "username": username,
            "email": f"{username}@example.com",
            "password": password,
            "confirmation": password,
            "csrf_token": token,
        },
    )


def page_signup(client: FlaskClient, username: str | None = None) -> str:
    """Sign up through the page form, as a browser would; the client keeps the cookie."""
    username = username or unique_name()
    response = post_signup_form(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return username


def page_login(client: FlaskClient, login: str, password: str = PASSWORD, next_path: str = ""):
    token = csrf_from(client, "/login")
    path = f"/login?next={next_path}" if next_path else "/login"
    return client.post(path, data={"login": login, "password": password, "csrf_token": token})
