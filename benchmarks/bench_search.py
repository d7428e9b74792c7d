"""Search-as-you-type latency on the shared catalogue, and the rating page's weight.

Ours: the in-memory folded index (services/search.py), timed in process and through the API.
Reference: the straightforward database query, a LIKE on the folded name key, which finds only
substrings (no typos, no punctuation folding) and ranks nothing.
Run: `.venv/bin/python benchmarks/bench_search.py`.
"""

from __future__ import annotations

import gzip
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_section  # noqa: E402

from musicrec import create_app  # noqa: E402
from musicrec.config import Settings  # noqa: E402
from musicrec.datasets import load_lastfm  # noqa: E402
from musicrec.db import migrate  # noqa: E402
from musicrec.db.models import Artist  # noqa: E402
from musicrec.db.session import make_engine  # noqa: E402
from musicrec.names import fold_name  # noqa: E402
from musicrec.services.importing import import_listening_data  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("STARTER_DATA") or REPO.parent / "shared" / "data" / "lastfm-2k")
QUERIES = 600


def queries(names: list[str], seed: int = 7) -> list[str]:
    """What people type: prefixes of real names (2-8 characters), and names with one typo."""
    rng = random.Random(seed)
    typed = []
    for _ in range(QUERIES):
        name = rng.choice(names)
        if rng.random() < 0.7:
            typed.append(name[: rng.randint(2, 8)])
        else:
            position = rng.randrange(len(name))
            typed.append(name[:position] + name[position + 1 :])
    return typed


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"{statistics.median(ordered):.2f} ms | {p95:.2f} ms | {ordered[-1]:.2f} ms"


def timed_ms(function, argument) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    function(argument)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    data = load_lastfm(DATA)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            instance_dir=Path(folder),
            database_url=f"sqlite:///{folder}/bench.sqlite3",
            secret_key="bench-" + "x" * 40,
            model_dir=Path(folder) / "models",
            rate_limits="off",
        )
        engine = make_engine(settings.database_url)
        migrate.upgrade(engine)
        import_listening_data(engine, data, location=str(DATA))
        app = create_app(settings)
        client = app.test_client()
        catalogue = app.extensions["musicrec.catalogue"]
        typed = queries(data.artist_names)
        build_start = time.perf_counter()
        catalogue.search("warm up")
        build_ms = (time.perf_counter() - build_start) * 1000

        in_process = [timed_ms(lambda q: catalogue.search(q, 10), q) for q in typed]
        over_api = [
            timed_ms(lambda q: client.get("/api/v1/artists", query_string={"q": q}), q)
            for q in typed
        ]

        def like(query: str) -> None:
            with engine.connect() as connection:
                connection.execute(
                    select(Artist.id, Artist.name)
                    .where(Artist.name_key.like(f"%{fold_name(query)}%"))
                    .limit(10)
                ).all()

        reference = [timed_ms(like, q) for q in typed]
        found_ours = sum(bool(catalogue.search(q, 10)) for q in typed)

        page = client.post(
            "/api/v1/auth/signup",
            json={"username": "bench", "email": "bench@example.com", "password": "bench pass 123"},
        )
        client.set_cookie("musicrec_token", page.get_json()["token"])
        parts = {
            "/rate (HTML)": client.get("/rate").data,
            "app.css": client.get("/static/app.css").data,
            "app.js": client.get("/static/app.js").data,
        }
        engine.dispose()

    rows = [
        "| search | median | p95 | max |",
        "|---|---|---|---|",
        f"| ours, in process | {percentiles(in_process)} |",
        f"| ours, through GET /api/v1/artists | {percentiles(over_api)} |",
        f"| reference: SQLite LIKE on the folded key | {percentiles(reference)} |",
    ]
    weight = ["| rating page part | bytes | gzip bytes |", "|---|---|---|"]
    for name, body in parts.items():
        weight.append(f"| {name} | {len(body):,} | {len(gzip.compress(body)):,} |")
    total = sum(len(body) for body in parts.values())
    total_gzip = sum(len(gzip.compress(body)) for body in parts.values())
    weight.append(f"| total (no images, no fonts) | {total:,} | {total_gzip:,} |")
    body = (
        f"{len(typed)} queries typed as people do (70% prefixes of 2-8 characters of real names, "
        f"30% full names with one character dropped) over the {data.artist_ids.size:,} artists of "
        f"`{DATA}`. Ours found at least one artist for {found_ours} of them. Building the index "
        f"on first use: {build_ms:.0f} ms.\n\n" + "\n".join(rows) + "\n\n" + "\n".join(weight)
    )
    print(body)
    write_section("Search as you type, and the rating page's weight", body)


if __name__ == "__main__":
    main()
