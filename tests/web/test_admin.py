"""The operator's page and the job API: admins only (403 for others), plots drawn on the server
within the strict CSP, trainings queued at once (202) and never two at a time (409), a user's
own job readable at /api/v1/me/jobs/{id}; and `musicrec create-admin`."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from musicrec.cli import main
from musicrec.config import Settings
from musicrec.db.models import User
from musicrec.db.session import transaction
from musicrec.services.accounts import make_admin
from musicrec.web.extensions import job_queue
from tests.factories import seed_two_tastes, train_in_transaction
from tests.web.conftest import api_signup, bearer, page_signup

ADMIN_PATHS = [("GET", "/api/v1/admin/jobs"), ("POST", "/api/v1/admin/train")]


def _promote(db_engine: Engine, username: str) -> None:
    with transaction(db_engine) as session:
        make_admin(session, username)


@pytest.fixture
def admin_token(client: FlaskClient, db_engine: Engine) -> str:
    _user_id, token = api_signup(client, "operator")
    _promote(db_engine, "operator")
    return token


def test_anonymous_visitors_are_asked_to_log_in(client: FlaskClient) -> None:
    assert client.get("/admin").status_code == 401
    for method, path in ADMIN_PATHS:
        assert client.open(path, method=method).status_code == 401


def test_non_admins_get_403_from_the_page_and_the_admin_api(client: FlaskClient) -> None:
    _user_id, token = api_signup(client)

    for method, path in [*ADMIN_PATHS, ("POST", "/api/v1/admin/tune")]:
        response = client.open(path, method=method, headers=bearer(token))
        assert response.status_code == 403, path
        assert response.get_json()["error"]["code"] == "forbidden"
    client.set_cookie("musicrec_token", token)
    page = client.get("/admin")
    assert page.status_code == 403
    assert "Operator" not in client.get("/").get_data(as_text=True)  # no link to it either


def test_an_admin_queues_a_training_once_and_follows_it(
    client: FlaskClient, admin_token: str, app: Flask
) -> None:
    queued = client.post("/api/v1/admin/train", headers=bearer(admin_token))
    again = client.post("/api/v1/admin/train", headers=bearer(admin_token))

    assert queued.status_code == 202
    job = queued.get_json()["job"]
    assert {k: job[k] for k in ("kind", "state", "progress", "result", "error")} == {
        "kind": "train",
        "state": "queued",
        "progress": 0.0,
        "result": None,
        "error": None,
    }
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == "A training is already queued or running."
    with app.app_context():
        assert job_queue().pending() == 1  # handed to the worker, not run in the request
    mine = client.get(f"/api/v1/me/jobs/{job['id']}", headers=bearer(admin_token))
    assert mine.status_code == 200 and mine.get_json()["job"]["id"] == job["id"]
    listed = client.get("/api/v1/admin/jobs", headers=bearer(admin_token)).get_json()["jobs"]
    assert [row["id"] for row in listed] == [job["id"]]


def test_a_job_is_not_readable_by_other_users(client: FlaskClient, admin_token: str) -> None:
    job = client.post("/api/v1/admin/train", headers=bearer(admin_token)).get_json()["job"]
    _user_id, other = api_signup(client)

    response = client.get(f"/api/v1/me/jobs/{job['id']}", headers=bearer(other))

    assert response.status_code == 404


def test_the_cookie_call_to_queue_a_training_needs_the_csrf_token(
    client: FlaskClient, admin_token: str
) -> None:
    client.set_cookie("musicrec_token", admin_token)

    assert client.post("/api/v1/admin/train").status_code == 403


def test_the_operator_page_shows_the_model_jobs_and_plots_within_the_csp(
    client: FlaskClient, db_engine: Engine, app_settings: Settings
) -> None:
    seed_two_tastes(db_engine)
    report = train_in_transaction(db_engine, app_settings.model_dir, factors=4, iterations=5)
    page_signup(client, "boss")
    _promote(db_engine, "boss")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin"' in home

    response = client.get("/admin")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert report.version in html and "implicit (CPU)" in html
    assert html.count('<svg class="chart') == 5
    assert "No data yet" not in html.split("Ratings by value")[1][:200]
    assert len(re.findall(r'<circle class="dot"', html)) == 5  # one per training iteration
    assert "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert 'data-queue-job="train"' in html and 'data-queue-job="tune"' in html


def test_create_admin_promotes_an_existing_account(
    client: FlaskClient, db_engine: Engine, settings_env: dict[str, str]
) -> None:
    api_signup(client, "Chief")
    runner = CliRunner()

    missing = runner.invoke(main, ["create-admin", "nobody"], env=settings_env)
    done = runner.invoke(main, ["create-admin", "chief"], env=settings_env)

    assert missing.exit_code != 0 and "sign up first" in missing.output
    assert done.exit_code == 0, done.output
    with Session(db_engine) as session:
        user = session.execute(select(User).where(User.username_key == "chief")).scalar_one()
        assert user.is_admin
