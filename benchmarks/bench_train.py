"""`musicrec train` end to end, and a recommendation request through the API.

Train: read every rating from the database, train the default model, publish the version
atomically (what `musicrec train` does), on SQLite and PostgreSQL holding the imported shared
data; the engine-only figure of bench_engine.py is the reference for the overhead.
Recommend: POST /api/v1/me/recommendations for users with 10 ratings (fold-in, top 10, reasons,
stored), through the Flask app in process.
Run: `.venv/bin/python benchmarks/bench_train.py`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import temporary_postgres_database, write_section  # noqa: E402

from musicrec import create_app  # noqa: E402
from musicrec.config import Settings  # noqa: E402
from musicrec.datasets import load_lastfm  # noqa: E402
from musicrec.db import migrate  # noqa: E402
from musicrec.db.ratings import all_ratings  # noqa: E402
from musicrec.db.session import make_engine, make_session_factory  # noqa: E402
from musicrec.engine import als  # noqa: E402
from musicrec.services.importing import import_listening_data  # noqa: E402
from musicrec.services.training import train_and_publish  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("STARTER_DATA") or REPO.parent / "shared" / "data" / "lastfm-2k")
RUNS = 3
REQUESTS = 100


def median_seconds(function, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure_training(url: str, models: Path, data) -> dict[str, float]:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    migrate.upgrade(engine)
    import_listening_data(engine, data, location=str(DATA))
    with make_session_factory(engine)() as session:
        arrays = all_ratings(session)
    figures = {
        "engine only": median_seconds(
            lambda: als.train_arrays(arrays.user_ids, arrays.artist_ids, arrays.ratings)
        ),
        "implicit": median_seconds(lambda: train_and_publish(engine, models)),
        "explicit": median_seconds(lambda: train_and_publish(engine, models, "explicit")),
    }
    engine.dispose()
    return figures


def measure_requests(folder: Path, data) -> list[float]:  # type: ignore[no-untyped-def]
    settings = Settings(
        instance_dir=folder,
        database_url=f"sqlite:///{folder}/bench.sqlite3",
        secret_key="bench-" + "x" * 40,
        model_dir=folder / "models",
        rate_limits="off",
    )
    client = create_app(settings).test_client()
    rng = np.random.default_rng(3)
    popular = np.unique(data.item_ids, return_counts=True)
    candidates = popular[0][np.argsort(-popular[1])][:500]
    client.get("/api/v1/artists?q=warm")  # builds the search index and loads the model
    timings = []
    for number in range(REQUESTS // 10):
        body = {
            "username": f"bench{number}",
            "email": f"b{number}@example.com",
            "password": "bench pass 123",
        }
        token = client.post("/api/v1/auth/signup", json=body).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        for lastfm_id in rng.choice(candidates, 10, replace=False):
            artist = client.get(f"/api/v1/artists?q={lastfm_name(data, lastfm_id)}&limit=1")
            artist_id = artist.get_json()["artists"][0]["id"]
            client.put(f"/api/v1/me/ratings/{artist_id}", json={"rating": 8}, headers=headers)
        for _ in range(10):
            start = time.perf_counter()
            response = client.post("/api/v1/me/recommendations?n=10", headers=headers)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 201
    return timings


def lastfm_name(data, lastfm_id: int) -> str:  # type: ignore[no-untyped-def]
    position = int(np.searchsorted(data.artist_ids, lastfm_id))
    return str(data.artist_names[position])


def main() -> None:
    data = load_lastfm(DATA)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = measure_training(
            f"sqlite:///{folder}/bench.sqlite3", Path(folder) / "models", data
        )
        timings = measure_requests(Path(folder), data)
    with temporary_postgres_database() as url, tempfile.TemporaryDirectory() as folder:
        results["PostgreSQL"] = measure_training(url, Path(folder) / "models", data)
    rows = [
        "| database | engine only (reference) | `musicrec train`, implicit (default) "
        "| `musicrec train --kind explicit` |",
        "|---|---|---|---|",
    ]
    for database, figures in results.items():
        rows.append(
            f"| {database} | {figures['engine only']:.2f} s | {figures['implicit']:.2f} s "
            f"| {figures['explicit']:.2f} s |"
        )
    ordered = sorted(timings)
    body = (
        f"Median of {RUNS} runs on the imported `{DATA}` ({data.listens.size:,} ratings). "
        "`musicrec train` = read all ratings + train + publish atomically; target < 5 s.\n\n"
        + "\n".join(rows)
        + f"\n\nPOST /api/v1/me/recommendations?n=10 for users with 10 ratings, {len(ordered)} "
        f"requests in process on SQLite (fold-in, top 10 with reasons, stored): median "
        f"{statistics.median(ordered):.1f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f}"
        f" ms, max {ordered[-1]:.1f} ms."
    )
    print(body)
    write_section("Training and recommending through the app", body)


if __name__ == "__main__":
    main()
