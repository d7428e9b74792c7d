"""Training through a real standalone cluster (a master and two workers), published and served
through the API with fold-in and reasons, exactly like an embedded model."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from musicrec.engine.artifacts import ModelStore
from musicrec.services.training import SparkTarget, train_and_publish
from tests.spark.conftest import CLUSTER_CONF
from tests.web.conftest import api_signup, bearer

pytestmark = [pytest.mark.spark, pytest.mark.slow]
LIKED = ("Radiohead", "Björk", "Air")


def test_a_cluster_trained_model_serves_recommendations_with_reasons(
    app: Flask,
    client: FlaskClient,
    catalogue: dict[str, int],
    db_engine: Engine,
    standalone_cluster: str,
) -> None:
    settings = app.config["MUSICREC_SETTINGS"]
    target = SparkTarget(
        standalone_cluster, settings.instance_dir / "spark-checkpoints", CLUSTER_CONF
    )

    report = train_and_publish(
        db_engine, settings.model_dir, engine="spark", spark=target, factors=4, iterations=5
    )

    meta = ModelStore(settings.model_dir).meta(report.version)
    assert meta["metrics"]["engine"] == "spark" and meta["kind"] == "implicit-als"
    _user, token = api_signup(client)
    # Familiar picks: on this dozen-artist catalogue every artist the model likes for these
    # three has fewer listeners than the discovery setting's evidence floor asks for.
    client.put("/api/v1/me/settings", json={"discovery": 0}, headers=bearer(token))
    for name in LIKED:
        client.put(
            f"/api/v1/me/ratings/{catalogue[name]}", json={"rating": 9}, headers=bearer(token)
        )
    batch = client.post("/api/v1/me/recommendations?n=3", headers=bearer(token)).get_json()
    similar = client.get(f"/api/v1/artists/{catalogue['Radiohead']}/similar?n=3").get_json()

    assert batch["model_version"] == report.version
    names = {r["artist"]["name"] for r in batch["recommendations"]}
    assert len(names) == 3 and not names & set(LIKED)
    assert any(r["because"] for r in batch["recommendations"])
    for item in batch["recommendations"]:
        assert {b["name"] for b in item["because"]} <= set(LIKED)
    assert len(similar["artists"]) == 3
