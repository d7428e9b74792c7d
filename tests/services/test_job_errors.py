"""What a failed job tells its user (issue 18, defect 9): a plain message, never the SQL.

A Spotify import (against the Prism mock and the accounts stand-in) whose ratings the database
refuses (a trigger stands for any constraint) fails; the job as the API and the account page
show it names no SQL, parameters or exception, only a reference; the worker's log has the
traceback. Errors a job raises on purpose keep their message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from musicrec import create_app
from musicrec.config import Settings
from musicrec.db import job_rows
from musicrec.db.session import transaction
from musicrec.services import jobs
from musicrec.services.job_running import run_job
from tests.spotify_fixtures import AccountsStandIn, spotify_on

PASSWORD = "a long enough passphrase"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"')
_JOB_ERROR = re.compile(r"<p [^>]*data-job-error[^>]*>([^<]*)</p>")
# What a database error's text carries: the statement, its parameters, the driver's words.
LEAKS = ("SQL", "INSERT", "parameters", "IntegrityError", "refused by the test", "ratings")

REFUSE_RATINGS = {
    "sqlite": [
        "CREATE TRIGGER refuse_ratings BEFORE INSERT ON ratings "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_ratings() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation'; END $$ "
        "LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_ratings BEFORE INSERT ON ratings "
        "FOR EACH ROW EXECUTE FUNCTION refuse_ratings()",
    ],
}


@pytest.fixture
def spotify_settings(
    settings: Settings, accounts_standin: AccountsStandIn, prism_url: str
) -> Settings:
    return replace(
        settings,
        rate_limits="off",
        spotify=spotify_on(accounts_standin.url, prism_url),
    )


@pytest.fixture
def app(spotify_settings: Settings, db_engine: Engine) -> Iterator[Flask]:
    application = create_app(spotify_settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["musicrec.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def refused_ratings(db_engine: Engine) -> Iterator[None]:
    """Every new rating is refused by the database, as a violated constraint would be."""
    dialect = db_engine.dialect.name
    with db_engine.begin() as connection:
        for statement in REFUSE_RATINGS[dialect]:
            connection.execute(text(statement))
    yield
    with db_engine.begin() as connection:
        connection.execute(text("DROP TRIGGER IF EXISTS refuse_ratings" + _on_ratings(dialect)))
        if dialect == "postgresql":
            connection.execute(text("DROP FUNCTION IF EXISTS refuse_ratings()"))


def _on_ratings(dialect: str) -> str:
    return " ON ratings" if dialect == "postgresql" else ""


def _csrf(client: FlaskClient, path: str) -> str:
    match = _CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def _signed_up_and_connected(client: FlaskClient) -> None:
    answer = client.post(
        "/signup",
        data={
            "username": "importer",
            "email": "importer@example.org",
            "password": PASSWORD,
            "confirmation": PASSWORD,
            "csrf_token": _csrf(client, "/signup"),
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    start = client.post("/spotify/connect", data={"csrf_token": _csrf(client, "/account")})
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302


def test_an_import_failing_in_the_database_shows_a_plain_message_and_logs_the_traceback(
    client: FlaskClient,
    db_engine: Engine,
    spotify_settings: Settings,
    refused_ratings: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _signed_up_and_connected(client)
    queued = client.post(
        "/api/v1/me/spotify/import", headers={"X-CSRFToken": _csrf(client, "/account")}
    )
    assert queued.status_code == 202, queued.get_json()
    job_id = queued.get_json()["job"]["id"]

    with caplog.at_level(logging.ERROR, logger="musicrec.jobs"):
        assert run_job(db_engine, spotify_settings, job_id) == "failed"

    shown = client.get(f"/api/v1/me/jobs/{job_id}").get_json()["job"]
    assert shown["state"] == "failed"
    assert shown["error"] == (
        f"The import failed because of an internal error (reference #job-{job_id})."
    )
    page = _JOB_ERROR.search(client.get("/account").get_data(as_text=True))
    assert page and page.group(1) == shown["error"]
    assert not [leak for leak in LEAKS if leak in shown["error"]]
    logged = [r for r in caplog.records if r.exc_info and f"#job-{job_id}" in r.getMessage()]
    assert logged and "IntegrityError" in caplog.text and "INSERT INTO ratings" in caplog.text


def test_an_error_raised_on_purpose_keeps_its_message(
    db_engine: Engine, settings: Settings
) -> None:
    with transaction(db_engine) as session:
        job = job_rows.add_job(session, "import", reason="spotify", params={"source": "tape"})
    assert run_job(db_engine, settings, job.id) == "failed"

    with transaction(db_engine) as session:
        (shown,) = jobs.recent_jobs(session)
    assert shown.error == "The import failed: No worker can import from 'tape'."


def test_a_raw_error_stored_before_the_fix_is_not_shown(db_engine: Engine) -> None:
    with transaction(db_engine) as session:
        job = job_rows.add_job(session, "import", reason="spotify", params={"source": "spotify"})
        job_rows.claim(session, job.id, "old-worker")
        job_rows.finish(
            session,
            job.id,
            "old-worker",
            error="Unexpected error: IntegrityError: (sqlite3.IntegrityError) refused\n"
            "[SQL: INSERT INTO ratings (user_id, artist_id) VALUES (?, ?)]",
        )

    with transaction(db_engine) as session:
        (shown,) = jobs.recent_jobs(session)
    assert (
        shown.error == f"The import failed because of an internal error (reference #job-{job.id})."
    )
