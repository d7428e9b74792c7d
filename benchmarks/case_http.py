"""serve-http and seed-request: the served app under load, and one request against the seed
app's whole per-request process.

serve-http's reference is the issue's target figures (there is no other server to compare
with); its ratio is our requests a second at saturation over the target's.
seed-request compares like with like: the seed app's per-request process (a fresh Python
starting Spark, loading its saved model, recommending) against ours as a whole process (a
fresh Python loading the newest model version and recommending); one POST
/api/v1/me/recommendations on the idle server (what a user of ours waits for) is reported
beside it, never divided by a cold process.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import http_load
import live_server
import measure
import serve_profile
from measure import BENCHMARKS, run_child, run_spark_child, summary

USERS, RATINGS = 200, 10
RATE = 200  # requests a second of the fixed-rate runs
TARGETS = {
    "rps": 400.0,
    "p99_ms": 50.0,  # at a fixed 200 requests a second
    "saturated_p99_ms": 100.0,  # at saturation, both paths, with no time-outs (issue 19)
    "errors": 0,
    "search_rps": 1000.0,
}
RESULTS = BENCHMARKS / "results"
# How the worker class and count were chosen (full mode only): each serves the same database.
WORKER_CHOICES = (("gevent", 2), ("gevent", 3), ("gevent", 4), ("gthread", 2), ("sync", 2))
SPARK_TIMEOUT_S = 600


def log(message: str) -> None:
    print(f"   {time.strftime('%H:%M:%S')} {message}", flush=True)


def _profile(server: live_server.LiveServer, load: http_load.Load, quick: bool) -> dict:
    """Profile the workers under saturated load (an extra wrk run, not the measured one)."""
    seconds = 5 if quick else 10
    svg = RESULTS / ("serve-profile-quick.svg" if quick else "serve-profile.svg")
    raw = server.folder / "serve-profile.txt"
    pid = server.process.pid
    with tempfile.TemporaryDirectory() as name:
        background = measure.background(
            [
                "wrk",
                "-t2",
                "-c16",
                f"-d{2 * seconds + 10}s",
                "-s",
                str(http_load.WRK_SCRIPT),
                f"http://127.0.0.1:{server.port}",
                "--",
                load.mode,
                str(_lines_file(Path(name), load)),
            ],
            Path(name) / "wrk.log",
            timeout=2 * seconds + 30,
        )
        with background:
            serve_profile.record(pid, svg, seconds)
            serve_profile.record(pid, raw, seconds, raw=True)
    return {"svg": str(svg.relative_to(BENCHMARKS.parent)), **serve_profile.top_frames(raw)}


def _worker_sweep(
    server: live_server.LiveServer, recommend: http_load.Load, search: http_load.Load, seconds: int
) -> list[dict]:
    """Recommendations and search at saturation under each of ``WORKER_CHOICES``."""
    rows = []
    for worker_class, count in WORKER_CHOICES:
        options = ("--workers", str(count), "--worker-class", worker_class)
        with live_server.another_server(server, *options) as port:
            found = http_load.wrk(port, recommend, server.folder, seconds)
            http_load.settle(port)
            searched = http_load.wrk(port, search, server.folder, seconds)
        rows.append(
            {
                "worker_class": worker_class,
                "workers": count,
                "rps": found["rps"],
                "p99_ms": found["p99_ms"],
                "search_rps": searched["rps"],
                "search_p99_ms": searched["p99_ms"],
                "errors": found["errors"] + searched["errors"],
            }
        )
        log(f"workers: {worker_class} x {count}: {found['rps']:.0f} req/s")
    return rows


def _lines_file(folder: Path, load: http_load.Load) -> Path:
    path = folder / "lines.txt"
    path.write_text("\n".join(load.lines) + "\n")
    return path


def _spark_request(quick: bool, folder: Path) -> dict:
    """The seed app's request: a new Spark session loading a saved model (saved once before,
    not timed), recommendForUserSubset for one user; wall time of the whole process."""
    model = str(folder / "spark-als-model")
    run_spark_child(["benchmarks/spark_als.py", "save", "--model", model], SPARK_TIMEOUT_S)
    walls = [
        run_spark_child(
            ["benchmarks/spark_als.py", "request", "--model", model], SPARK_TIMEOUT_S
        ).wall_s
        for _ in range(1 if quick else 3)
    ]
    return {
        "label": "seed app: new Spark session + ALSModel.load + recommendForUserSubset(1 user)",
        **summary(walls),
    }


def http_cases(quick: bool) -> list[dict]:
    """serve-http and seed-request, measured against one live server."""
    seconds = 5 if quick else 20
    rate_seconds = 5 if quick else 10
    load_before = measure.load_average()
    with live_server.live_server() as server:
        log("server up")
        tokens = live_server.create_users(server, USERS, RATINGS)
        recommend = http_load.Load("recommend", tokens)
        search = http_load.Load("get", live_server.search_paths(server, 200))
        single = http_load.sequential(server.port, recommend, 50 if quick else 200)
        artists, ratings = live_server.newest_model_input(server)
        whole = [
            run_child(
                [
                    "benchmarks/ours_request.py",
                    "--model-dir",
                    str(server.model_dir),
                    "--artists",
                    *map(str, artists),
                    "--ratings",
                    *map(str, ratings),
                ],
                120,
            ).wall_s
            for _ in range(1 if quick else 3)
        ]
        log(f"{USERS} users, {len(single)} single requests, {len(whole)} whole processes")
        saturated = http_load.wrk(server.port, recommend, server.folder, seconds)
        http_load.settle(server.port)
        search_saturated = http_load.wrk(server.port, search, server.folder, seconds)
        http_load.settle(server.port)
        paced = http_load.fixed_rate(server.port, recommend, RATE, rate_seconds)
        http_load.settle(server.port)
        search_paced = http_load.fixed_rate(server.port, search, RATE, rate_seconds)
        http_load.settle(server.port)
        paced_new = http_load.fixed_rate_new_connections(server.port, recommend, RATE, rate_seconds)
        http_load.settle(server.port)
        search_paced_new = http_load.fixed_rate_new_connections(
            server.port, search, RATE, rate_seconds
        )
        http_load.settle(server.port)
        profiled = _profile(server, recommend, quick)
        log("load runs and profile done")
        workers = [] if quick else _worker_sweep(server, recommend, search, seconds // 2)
    load = (load_before, measure.load_average())
    serve_http = {
        "case": "serve-http",
        "project": {
            "label": f"musicrec serve (as make run), PostgreSQL, {USERS} users x {RATINGS} ratings",
            "rps": saturated["rps"],
            "p50_ms": paced["p50_ms"],
            "p99_ms": paced["p99_ms"],
            "errors": sum(
                run["errors"]
                for run in (
                    saturated,
                    paced,
                    paced_new,
                    search_saturated,
                    search_paced,
                    search_paced_new,
                )
            ),
            "saturated": saturated,
            "fixed_rate": paced,  # 16 keep-alive connections, as wrk2 -R200 -c16
            "fixed_rate_new_connections": paced_new,  # a new connection for every request
            "search_rps": search_saturated["rps"],
            "search_saturated": search_saturated,
            "search_fixed_rate": search_paced,
            "search_fixed_rate_new_connections": search_paced_new,
            "profile": profiled,
            "workers": workers,
            "load": load,  # the machine's load average when serve-http started and ended
            "setup": {
                "users": USERS,
                "ratings_each": RATINGS,
                "rate": RATE,
                "rate_seconds": rate_seconds,
                "wrk_timeout_s": http_load.WRK_TIMEOUT_S,
            },
        },
        "reference": {"label": "issue 8 targets (no reference server)", **TARGETS},
        "ratio": saturated["rps"] / TARGETS["rps"],
    }
    ours = {
        "label": "fresh Python: load the newest model version, recommend (whole process)",
        **summary(whole),
        "one_request": {
            "label": "one POST /api/v1/me/recommendations?n=10 on the idle server",
            **summary(single),
        },
    }
    try:
        with tempfile.TemporaryDirectory(prefix="musicrec-spark-") as name:
            spark = _spark_request(quick, Path(name))
    except RuntimeError as error:  # serve-http's figures are kept
        ours["error"] = repr(error)
        return [
            serve_http,
            {"case": "seed-request", "project": ours, "reference": {}, "ratio": None},
        ]
    ratio = spark["median_s"] / ours["median_s"]
    return [
        serve_http,
        {"case": "seed-request", "project": ours, "reference": spark, "ratio": ratio},
    ]
