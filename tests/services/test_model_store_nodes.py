"""Issue 22's "done when": with MUSICREC_MODEL_STORE=database, two ``musicrec serve`` nodes
with separate model folders serve a version published by another process on a third folder
within 30 s, on PostgreSQL and on SQLite; a node that starts with an empty folder answers its
health check "ok" only once it serves the current version. Real processes, real databases."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest

from musicrec.engine.artifacts import ModelStore
from tests.conftest import SHARED_DATA
from tests.live_server import (
    LiveServer,
    instance_env,
    prepare_instance,
    run_musicrec,
    serving,
    write_data_slice,
)

SERVED_WITHIN = 30.0


def _health(server: LiveServer) -> dict[str, object]:
    try:
        with urllib.request.urlopen(server.base_url + "/api/v1/health", timeout=5) as answer:
            return dict(json.load(answer))
    except urllib.error.HTTPError as error:
        return dict(json.load(error))


def _node_env(root: Path, name: str, database_url: str) -> dict[str, str]:
    return instance_env(root / name, database_url, MUSICREC_MODEL_STORE="database")


@pytest.mark.slow
@pytest.mark.realdata
def test_nodes_without_a_shared_folder_serve_a_published_version_within_30_s(
    database_url: str, tmp_path: Path
) -> None:
    if not (SHARED_DATA / "user_artist_scrobbles.csv").exists():
        pytest.skip(f"no starter data at {SHARED_DATA}")
    worker_env = _node_env(tmp_path, "worker", database_url)
    prepare_instance(worker_env, write_data_slice(SHARED_DATA, tmp_path / "data", 40), False)
    node_envs = [_node_env(tmp_path, f"node{n}", database_url) for n in (1, 2)]
    for env in node_envs:
        Path(env["MUSICREC_INSTANCE_DIR"]).mkdir(parents=True)
    with ExitStack() as stack:
        nodes = [stack.enter_context(serving(env, 1)) for env in node_envs]
        assert [_health(node)["model"] for node in nodes] == ["missing", "missing"]

        output = run_musicrec(worker_env, "train", "--factors", "8", "--iterations", "2")
        published_at = time.monotonic()
        match = re.search(r"Published model (\S+)", output)
        assert match, output
        version = match.group(1)

        pending = set(range(len(nodes)))
        while pending and time.monotonic() - published_at < SERVED_WITHIN:
            for n in list(pending):
                if _health(nodes[n])["model_version"] == version:
                    pending.discard(n)
            time.sleep(0.2)
        waited = time.monotonic() - published_at
        assert not pending, f"nodes {sorted(pending)} did not serve {version} in 30 s"
        assert waited < SERVED_WITHIN

        late_env = _node_env(tmp_path, "node3", database_url)
        Path(late_env["MUSICREC_INSTANCE_DIR"]).mkdir(parents=True)
        late = stack.enter_context(serving(late_env, 1))
        first_answer = _health(late)  # the first answer it gives at all

    assert first_answer["status"] == "ok" and first_answer["model_version"] == version
    for name in ("node1", "node2", "node3"):
        assert ModelStore(tmp_path / name / "models").versions() == [version]
    assert ModelStore(tmp_path / "worker" / "models").versions() == [version]
