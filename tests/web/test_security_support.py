"""Helpers shared by the security tests (test_security*.py, test_sessions.py, test_headers.py,
test_openapi.py). This module holds no tests of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import jwt
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, inspect, select, text
from werkzeug.routing import Rule

from musicrec import create_app
from musicrec.config import Settings
from musicrec.web.auth.guard import COOKIE_NAME
from tests.web.conftest import csrf_from

TOKEN_COOKIE = COOKIE_NAME
_CSRF_VALUES = re.compile(r'(name="csrf_token" value="|name="csrf-token" content=")[^"]+"')


@contextmanager
def built_app(settings: Settings, **changes: Any) -> Iterator[Flask]:
    """An app over the (already migrated) database of ``settings``, with ``changes`` applied."""
    application = create_app(replace(settings, **changes))
    application.config["TESTING"] = True
    try:
        yield application
    finally:
        application.extensions["musicrec.engine"].dispose()


def token_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(TOKEN_COOKIE)
    return cookie.value if cookie is not None and cookie.value else None


def client_with_cookie(app: Flask, token: str) -> FlaskClient:
    """A fresh browser that carries ``token`` as its session cookie (a replayed cookie)."""
    other = app.test_client()
    other.set_cookie(TOKEN_COOKIE, token, path="/")
    return other


def session_id_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


def post_form(client: FlaskClient, path: str, data: dict[str, str], page: str = "/account"):
    """POST a page form the way a browser does: with the CSRF token of the page it came from."""
    return client.post(path, data={**data, "csrf_token": csrf_from(client, page)})


def mask_csrf(page: str) -> str:
    return _CSRF_VALUES.sub(r"\1MASKED", page)


def snapshot(engine: Engine, ignore: frozenset[str] = frozenset({"last_seen_at"})) -> dict:
    """Every row of every table (minus bookkeeping columns), to see whether anything changed."""
    state: dict[str, list[tuple]] = {}
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            columns = [
                c["name"] for c in inspect(connection).get_columns(table) if c["name"] not in ignore
            ]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = connection.execute(text(f'SELECT {quoted} FROM "{table}"')).all()
            state[table] = sorted(tuple(map(repr, row)) for row in rows)
    return state


def row_counts(engine: Engine) -> dict[str, int]:
    return {table: len(rows) for table, rows in snapshot(engine).items()}


def count_where(engine: Engine, model: Any, **equal: Any) -> int:
    with engine.connect() as connection:
        query = select(model)
        for name, value in equal.items():
            query = query.where(getattr(model, name) == value)
        return len(connection.execute(query).all())


def rule_path(rule: Rule) -> str:
    """The rule as OpenAPI writes paths: /artists/<int:artist_id> -> /artists/{artist_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def concrete_path(rule: Rule, artist_id: int) -> str:
    """A URL for ``rule`` with every converter filled in."""
    values: dict[str, Any] = {}
    for argument in rule.arguments:
        values[argument] = artist_id if "id" in argument else "app.css"
    return rule.build(values, append_unknown=False)[1]


def routes(app: Flask, artist_id: int) -> list[tuple[str, str, str]]:
    """Every (method, path, endpoint) the app serves, HEAD and OPTIONS left out."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, concrete_path(rule, artist_id), rule.endpoint))
    return found
