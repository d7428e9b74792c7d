"""A missing or corrupt model at start: recommendations fall back to popularity, marked degraded,
and the health check says which.

The health answer expected (issue 14): ``{"status": "degraded", "database": "ok",
"model": "missing" | "corrupt", "model_version": null}`` with 200 (the app still serves), and
``{"status": "ok", "model": "ok", ...}`` when a model loads. A recommendation batch made without
a model says ``"model_version": "popularity"`` and ``"degraded": true``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from musicrec import create_app
from musicrec.config import Settings
from tests.factories import train_in_transaction
from tests.web.conftest import api_signup, bearer

pytestmark = [pytest.mark.fault]


def _corrupt(model_dir: Path) -> None:
    for version in model_dir.iterdir():
        if version.is_dir() and not version.name.startswith("."):
            (version / "arrays.npz").write_bytes(b"not a numpy archive")


@pytest.mark.parametrize("fault", ["missing", "corrupt"])
def test_popularity_is_served_marked_degraded_and_health_says_why(
    settings: Settings, db_engine: Engine, catalogue: dict[str, int], fault: str
) -> None:
    if fault == "corrupt":
        train_in_transaction(db_engine, settings.model_dir, "implicit", factors=4, iterations=2)
        _corrupt(settings.model_dir)
    application = create_app(replace(settings, rate_limits="off"))
    client = application.test_client()
    _, token = api_signup(client)
    client.put(
        f"/api/v1/me/ratings/{catalogue['Radiohead']}", json={"rating": 9}, headers=bearer(token)
    )

    health = client.get("/api/v1/health")
    batch = client.post("/api/v1/me/recommendations?n=3", headers=bearer(token))

    assert health.status_code == 200
    assert health.get_json()["status"] == "degraded"
    assert health.get_json()["model"] == fault
    assert batch.status_code == 201
    assert batch.get_json()["model_version"] == "popularity"
    assert batch.get_json()["degraded"] is True
    assert batch.get_json()["recommendations"]


def test_a_loaded_model_is_healthy(
    settings: Settings, db_engine: Engine, catalogue: dict[str, int]
) -> None:
    train_in_transaction(db_engine, settings.model_dir, "implicit", factors=4, iterations=2)
    client = create_app(replace(settings, rate_limits="off")).test_client()

    health = client.get("/api/v1/health").get_json()

    assert (health["status"], health["model"]) == ("ok", "ok")
