"""Settings a fleet of nodes must share (issue 22, item 2): what one node can see is refused in
production, and a node whose shared secrets differ from a live node's does not start."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from musicrec import create_app
from musicrec.config import ConfigurationError, Settings
from musicrec.db import model_versions as rows
from musicrec.db.models import Node
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.services.fleet import LIVE, FleetNode, served_versions, settings_fingerprint

PUBLIC_URL = "https://music.example.org"
POSTGRES = "postgresql://db.example.org/musicrec"
REDIS = "redis://redis.example.org:6379/0"


def _production(settings: Settings, **changes: object) -> Settings:
    return replace(settings, env="production", public_url=PUBLIC_URL, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("changes", "refused_because"),
    [
        ({"model_store": "database"}, "SQLite"),
        ({"model_store": "database", "database_url": POSTGRES}, "MUSICREC_JOB_QUEUE_URL"),
        ({"job_queue_url": REDIS, "rate_limit_storage": "memory://"}, "memory://"),
        (
            {
                "model_store": "database",
                "database_url": POSTGRES,
                "job_queue_url": REDIS,
                "rate_limit_storage": "memory://",
            },
            "memory://",
        ),
        ({"model_store": "s3"}, "MUSICREC_MODEL_STORE must be one of"),
    ],
)
def test_production_refuses_settings_that_cannot_serve_several_nodes(
    settings: Settings, changes: dict[str, object], refused_because: str
) -> None:
    with pytest.raises(ConfigurationError, match=refused_because):
        _production(settings, **changes).check()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "changes",
    [
        {},  # one machine: the folder store on SQLite
        {"model_store": "database", "database_url": POSTGRES, "job_queue_url": REDIS},
        {"job_queue_url": REDIS, "rate_limit_storage": "redis://redis.example.org:6379/1"},
    ],
)
def test_production_accepts_settings_that_fit_together(
    settings: Settings, changes: dict[str, object]
) -> None:
    _production(settings, **changes).check()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_development_allows_the_database_store_on_sqlite(settings: Settings) -> None:
    replace(settings, model_store="database").check()  # one machine, several folders: tests


def test_the_model_store_is_read_from_the_environment(settings: Settings) -> None:
    env = {"MUSICREC_INSTANCE_DIR": str(settings.instance_dir)}
    assert Settings.from_env(env).model_store == "folder"
    assert Settings.from_env({**env, "MUSICREC_MODEL_STORE": "Database"}).model_store == "database"


def test_the_fingerprint_changes_with_each_shared_setting(settings: Settings) -> None:
    base = _production(settings)
    variants = [
        replace(base, secret_key=base.secret_key + "x"),
        replace(base, spotify=replace(base.spotify, token_key="another key")),
        replace(base, public_url="https://other.example.org"),
        replace(base, model_store="database"),
    ]
    prints = {settings_fingerprint(s) for s in [base, *variants]}

    assert len(prints) == 5
    assert settings_fingerprint(replace(base, smtp_host="mail.example.org")) == (
        settings_fingerprint(base)
    )
    assert base.secret_key not in settings_fingerprint(base)


def test_a_node_with_other_secrets_than_a_live_node_refuses_to_start(
    settings: Settings, db_engine: Engine
) -> None:
    FleetNode(db_engine, _production(settings), name="other-host-1").join()  # a live node
    other = _production(settings, secret_key="another-secret-key-that-is-long-enough-0123456")

    with pytest.raises(ConfigurationError, match="other-host-1 run with other shared settings"):
        create_app(other)
    same = create_app(_production(settings))  # a node with the same settings starts

    with transaction(db_engine) as session:
        nodes = session.execute(select(Node.name, Node.fingerprint)).all()
    assert len(nodes) == 2 and len({fingerprint for _name, fingerprint in nodes}) == 1
    same.extensions["musicrec.engine"].dispose()


def test_after_the_live_node_left_or_died_new_secrets_start(
    settings: Settings, db_engine: Engine
) -> None:
    old = FleetNode(db_engine, _production(settings), name="old-host-1")
    old.join()
    rotated = _production(settings, secret_key="a-rotated-secret-key-that-is-long-enough-01")
    with pytest.raises(ConfigurationError):
        FleetNode(db_engine, rotated, name="new-host-1").join()

    old.leave()
    FleetNode(db_engine, rotated, name="new-host-1").join()
    with transaction(db_engine) as session:  # and a node that died is ignored once not live
        rows.record_node(session, "dead-host-1", "0" * 64, None, utcnow() - LIVE * 2)
    FleetNode(db_engine, rotated, name="new-host-2").join()


def test_development_only_warns_about_other_secrets(settings: Settings, db_engine: Engine) -> None:
    FleetNode(db_engine, settings, name="a-1").join()
    other = replace(settings, secret_key="another-secret-key-that-is-long-enough-0123456")

    FleetNode(db_engine, other, name="b-1").join()


def test_heartbeats_record_the_version_served_and_expire(
    settings: Settings, db_engine: Engine
) -> None:
    node = FleetNode(db_engine, settings, name="web-1")
    node.join()
    node.beat("20260101T000000Z-abc")

    with transaction(db_engine) as session:
        assert served_versions(session) == {"20260101T000000Z-abc"}
        assert served_versions(session, utcnow() + LIVE + timedelta(seconds=1)) == set()
