"""Two ``musicrec serve`` nodes behind a real nginx, as a fleet without a shared filesystem.

One scenario, in order, on one fleet (issue 22, item 4): the nodes start with empty model folders
and serve the version stored in the database; a listener signs up, rates and gets
recommendations through the proxy, and both nodes see the same account, ratings and history;
the sign-up limit is counted once for the fleet (Redis), not per node; a retraining queued
through the admin API is run by the worker and served by both nodes within 30 s; and a node
killed (SIGKILL, master and workers) under GET load costs no failed request at the proxy beyond
those in flight on the killed node (with nginx's ``proxy_next_upstream`` there are none: a GET
cut on the dead node is passed to the live one).

About 40 s on two cores; marked slow (`make test` and CI run it, `make test-quick` does not).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
from cryptography.fernet import Fernet

from tests.conftest import POSTGRES_ADMIN_URL, _unavailable
from tests.fleet.fleet import (
    Node,
    Process,
    fleet_env,
    start_node,
    start_process,
    wait_until_serving,
)
from tests.fleet.load import GetLoad, Outcome
from tests.fleet.nginx import Proxy, nginx_binary, running_nginx
from tests.live_server import (
    free_port,
    prepare_instance,
    run_musicrec,
    temporary_postgres_database,
    write_data_slice,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
log = logging.getLogger(__name__)

REDIS_URL = "redis://127.0.0.1:6379/6"  # this suite's Redis database number
SIGN_UPS_PER_MINUTE = 4  # the fleet's limit per client address (MUSICREC_RATE_LIMITS)
PASSWORD = "a fleet of two nodes"
NODE_START_TIMEOUT = 90.0
NEW_VERSION_WITHIN = 30.0  # seconds from the job's end to both nodes serving its version


@dataclass
class Fleet:
    proxy: Proxy
    nodes: list[Node]
    worker: Process
    worker_env: dict[str, str]
    started: list[dict[str, str]]  # each node's health once it first answered ok


def _redis_db() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        _unavailable(f"Redis is not reachable at {REDIS_URL}: {error}")
    return client


@pytest.fixture
def fleet(tmp_path: Path, shared_data: Path) -> Iterator[Fleet]:
    if nginx_binary() is None:
        _unavailable("nginx is not installed (make system-deps installs it)")
    store = _redis_db()
    store.flushdb()  # database 6 is this suite's: a queue and limits left by an earlier run go
    try:
        with ExitStack() as stack:
            try:
                database_url = stack.enter_context(
                    temporary_postgres_database(POSTGRES_ADMIN_URL, prefix="fleet")
                )
            except Exception as error:  # noqa: BLE001 - any failure to reach the server counts
                _unavailable(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}")
            yield _start_fleet(stack, tmp_path, shared_data, database_url)
    finally:
        store.flushdb()
        store.close()


def _start_fleet(stack: ExitStack, root: Path, data: Path, database_url: str) -> Fleet:
    proxy_port = free_port()
    shared = {
        "database_url": database_url,
        "redis_url": REDIS_URL,
        "token_key": Fernet.generate_key().decode(),
        "public_url": f"http://127.0.0.1:{proxy_port}",
        "MUSICREC_RATE_LIMITS": f"{SIGN_UPS_PER_MINUTE}/minute",
    }
    worker_env = fleet_env(root / "worker", **shared)
    # The schema, 60 listeners' data and a first small model, published by the worker's side.
    prepare_instance(worker_env, write_data_slice(data, root / "data", users=60))
    nodes = []
    for name in ("node-a", "node-b"):
        env = fleet_env(root / name, **shared)
        Path(env["MUSICREC_INSTANCE_DIR"]).mkdir()
        node = start_node(name, env)
        stack.callback(node.terminate)
        nodes.append(node)
    worker = start_process("worker", worker_env, "worker", "--poll-seconds", "0.2")
    stack.callback(worker.terminate)
    # Empty model folders at start: each node must serve the version stored in the database
    # before its health says ok (nginx starts after, so no node is marked down while booting).
    started = [wait_until_serving(node, NODE_START_TIMEOUT) for node in nodes]
    proxy = stack.enter_context(
        running_nginx(root / "nginx", proxy_port, [node.address for node in nodes])
    )
    return Fleet(proxy, nodes, worker, worker_env, started)


def _sign_up(proxy: Proxy, name: str) -> requests.Response:
    return requests.post(
        proxy.url + "/api/v1/auth/signup",
        json={"username": name, "email": f"{name}@example.org", "password": PASSWORD},
        timeout=30,
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _nodes_that_served(proxy: Proxy, method_uri_prefix: str) -> set[str]:
    return {
        line.upstreams[-1]
        for line in proxy.access_log()
        if line.method_uri.startswith(method_uri_prefix) and line.upstreams
    }


def test_two_nodes_behind_nginx(fleet: Fleet) -> None:
    node_a, node_b = fleet.nodes
    proxy = fleet.proxy

    # 1. Both nodes, started with empty model folders, answered ok with the stored version.
    first = fleet.started
    assert first[0]["model_version"] and first[0]["model_version"] == first[1]["model_version"]
    version = first[0]["model_version"]

    # 2. Sign-up, ratings and recommendations through the proxy; both nodes see them.
    signed_up = _sign_up(proxy, "listener")
    assert signed_up.status_code == 201, signed_up.text
    listener = _bearer(signed_up.json()["token"])
    popular = requests.get(proxy.url + "/api/v1/artists?limit=30", timeout=30).json()["artists"]
    rated = [artist["id"] for artist in popular[:6]]
    for value, artist_id in enumerate(rated, start=4):
        put = requests.put(
            f"{proxy.url}/api/v1/me/ratings/{artist_id}",
            json={"rating": value},
            headers=listener,
            timeout=30,
        )
        assert put.status_code in (200, 201), put.text
    for node in fleet.nodes:  # the token and the ratings hold on each node, asked directly
        me = requests.get(node.url + "/api/v1/me", headers=listener, timeout=30)
        assert me.status_code == 200 and me.json()["rated_count"] == len(rated), (node.name, me)
    shown: list[int] = []
    for _ in range(4):
        batch = requests.post(
            proxy.url + "/api/v1/me/recommendations?n=5", headers=listener, timeout=30
        )
        assert batch.status_code == 201, batch.text
        assert batch.json()["model_version"] == version
        shown += [item["artist"]["id"] for item in batch.json()["recommendations"]]
    assert len(shown) == 20 and len(set(shown)) == 20, "a recommendation was repeated"
    assert not set(shown) & set(rated)
    assert _nodes_that_served(proxy, "POST /api/v1/me/recommendations") == {
        node_a.address,
        node_b.address,
    }, "round robin should have sent the batches to both nodes"

    # 3. The sign-up limit is the fleet's (Redis), not each node's: the requests alternate
    #    between the nodes, yet the first over the limit is refused.
    assert _sign_up(proxy, "fleetops").status_code == 201
    answers = [_sign_up(proxy, f"extra{n}").status_code for n in range(SIGN_UPS_PER_MINUTE - 1)]
    assert answers == [201] * (SIGN_UPS_PER_MINUTE - 2) + [429], answers

    # 4. A retraining queued through the admin API, run by the worker, served by both nodes.
    run_musicrec(fleet.worker_env, "create-admin", "fleetops")
    token = requests.post(
        proxy.url + "/api/v1/auth/token",
        json={"username": "fleetops", "password": PASSWORD},
        timeout=30,
    )
    assert token.status_code == 200, token.text
    operator = _bearer(token.json()["token"])
    queued = requests.post(proxy.url + "/api/v1/admin/train", headers=operator, timeout=30)
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["job"]["id"]
    job = _wait_for_job(proxy, operator, job_id, fleet.worker)
    new_version = job["result"]["version"]
    assert new_version != version
    finished = time.monotonic()
    for node in fleet.nodes:
        while node.health()["model_version"] != new_version:
            assert time.monotonic() - finished < NEW_VERSION_WITHIN, node.log_tail()
            time.sleep(0.2)

    # 5. Node B killed under GET load: no failed request at the proxy beyond those in flight
    #    on node B when it died.
    paths = [f"/api/v1/artists/{artist_id}/similar" for artist_id in rated] + ["/api/v1/me"]
    load = GetLoad(proxy.url, paths, listener, clients=6)
    load.start()
    try:
        load.wait_for(lambda done: len(done) >= 60, timeout=60)
        killed_at = time.time()
        node_b.kill()
        load.wait_for(
            lambda done: sum(outcome.started > killed_at for outcome in done) >= 120, timeout=60
        )
    finally:
        outcomes = load.stop()
    _check_kill(proxy, outcomes, killed_at, node_a, node_b)


def _wait_for_job(proxy: Proxy, headers: dict[str, str], job_id: int, worker: Process) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = requests.get(f"{proxy.url}/api/v1/me/jobs/{job_id}", headers=headers, timeout=30)
        job = answer.json()["job"]
        if job["state"] == "done":
            return dict(job)
        assert job["state"] in ("queued", "running"), (job, worker.log_tail())
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not done within 120 s:\n{worker.log_tail()}")


def _check_kill(
    proxy: Proxy, outcomes: list[Outcome], killed_at: float, live: Node, killed: Node
) -> None:
    """Every failure must have been in flight on the killed node; none may be anywhere else."""
    logged = {line.load_id: line for line in proxy.access_log() if line.load_id}
    failed = [outcome for outcome in outcomes if not outcome.ok]
    unexcused = [
        outcome
        for outcome in failed
        if not (
            outcome.started <= killed_at
            and outcome.load_id in logged
            and logged[outcome.load_id].upstreams[-1:] == [killed.address]
        )
    ]
    assert not unexcused, (unexcused[:10], proxy.error_log()[-3000:])
    before = [logged[o.load_id] for o in outcomes if o.finished < killed_at and o.load_id in logged]
    assert killed.address in {line.upstreams[-1] for line in before}, "the load missed node B"
    after = [outcome for outcome in outcomes if outcome.started > killed_at]
    assert len(after) >= 120 and all(outcome.ok for outcome in after)
    assert {logged[o.load_id].upstreams[-1] for o in after} == {live.address}
    assert live.health()["status"] == "ok"
    log.info(
        "kill under load: %d GETs, %d failed (%d in flight on the killed node), %d passed on "
        "to the live node by nginx, %d after the kill",
        len(outcomes),
        len(failed),
        len(failed) - len(unexcused),
        sum(len(line.upstreams) > 1 for line in logged.values()),
        len(after),
    )
