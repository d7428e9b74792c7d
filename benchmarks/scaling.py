"""Scaling measurements and the capacity model: benchmarks/results/scaling.json, docs/scaling.md.

    python benchmarks/scaling.py            # measure (about 3 minutes on 2 idle cores), render
    python benchmarks/scaling.py --render   # render docs/scaling.md from the stored results
    python benchmarks/scaling.py --quick    # small sizes, for development: writes to /tmp

What is measured, each in a child process of its own (so one's memory is not another's):

- ``memory``: what one web worker holds, at four sizes of the synthetic Last.fm-360K shape
  (``synthetic.py``): the resident memory (RSS) added by loading the served model version, by
  the lazily built copies its first requests make (float32 item vectors for choosing; unit
  vectors and the by-artist ratings for similar artists), and by the catalogue's search index
  (``services.search``) over that many names. The model is trained for one iteration (its
  size does not depend on how well it is trained).
- ``request``: fold-in + top 10 with three reasons (``recommend_for_ratings``, what a
  recommendation request runs) with 1 BLAS thread, on models of 1k, 100k, 292k and 1M
  artists with 64 random factors (timing does not depend on the values), 20,000 users of 40
  ratings.
  Timed in ``REPETITIONS`` passes over the same requests; the pass with the lowest median is
  reported (``quietest``): other work on a shared machine only ever slows a pass down.
- ``ann`` (``scaling_ann.py``): an approximate nearest-neighbour index against the exact top
  10 on the full 292k-artist shape trained for real: recall of the exact top 10, NDCG@10 of
  both on held-out artists, query time, build time and size.

The capacity model then combines these with the figures of ``make bench``
(``benchmarks/results/latest.json``: single-node HTTP capacity and the Spark and embedded
training scale runs); every figure in docs/scaling.md comes from one of the two files, and
the page names which.

Unlike the other benchmark scripts this one imports ``musicrec`` directly (training, publishing
and loading a version, the search index, building a model from arrays), so that it does not
depend on the benchmark harness's own helpers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import measure
import synthetic

RESULTS = measure.BENCHMARKS / "results"
SCALING_JSON = RESULTS / "scaling.json"
LATEST_JSON = RESULTS / "latest.json"
DOC = measure.REPO / "docs" / "scaling.md"
COMMAND = "python benchmarks/scaling.py"  # (make scaling)

FACTORS = 64
MEMORY_SCALES = (0.03, 0.1, 0.3, 1.0)
REQUEST_ARTISTS = (1_000, 100_000, 292_385, 1_000_000)
REQUEST_USERS, REQUEST_RATINGS, REQUEST_RUNS, REPETITIONS = 20_000, 40, 100, 5
ANN_SCALE = 1.0
CHILD_TIMEOUT_S = 900
# --quick: small sizes, to try the script out in a minute or two (results in /tmp).
QUICK_MEMORY_SCALES = (0.01, 0.03)
QUICK_REQUEST_ARTISTS = (1_000, 30_000, 100_000)
QUICK_ANN_SCALE = 0.1

# --- assumptions of the capacity model (stated in the doc) ---
TARGET_USERS, TARGET_ARTISTS = 10_000_000, 1_000_000
RATINGS_PER_USER = synthetic.PAIRS / synthetic.USERS  # as in Last.fm-360K: about 49
TRAIN_ITERATIONS = 15
EXECUTOR_CORES = 4
PARALLEL_EFFICIENCY = 0.7  # of Spark's per-core throughput kept when spread over executors
EXECUTORS = (4, 8, 16, 32)
DAILY_ACTIVE_SHARE = 0.10
REQUESTS_PER_ACTIVE_USER = 5  # recommendation requests a day
PEAK_TO_AVERAGE = 3.0
NODE_UTILISATION = 0.6  # of a node's measured saturated throughput planned for
REQUEST_RATES = (100, 500, 1_000, 5_000)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def quietest(
    function: Callable[..., Any], inputs: Sequence[tuple[Any, ...]], repetitions: int
) -> dict[str, Any]:
    """Time ``function(*arguments)`` for every input, ``repetitions`` passes over all of them,
    and keep the pass with the lowest median (its median and p99): on a shared machine other
    work only ever adds time, so the quietest pass is the closest to the cost itself. The
    other passes' medians are kept to show the spread."""
    return quietest_each({"": function}, inputs, repetitions)[""]


def quietest_each(
    functions: dict[str, Callable[..., Any]],
    inputs: Sequence[tuple[Any, ...]],
    repetitions: int,
) -> dict[str, dict[str, Any]]:
    """``quietest`` for several functions, their passes taken in turn (one pass of each, then
    again), so that load on the machine falls on all of them alike."""
    passes: dict[str, list[dict[str, Any]]] = {name: [] for name in functions}
    for _ in range(repetitions):
        for name, function in functions.items():
            seconds = []
            for arguments in inputs:
                begin = time.perf_counter()
                function(*arguments)
                seconds.append(time.perf_counter() - begin)
            passes[name].append(measure.summary(seconds))
    results = {}
    for name, runs in passes.items():
        best = min(runs, key=lambda p: p["median_s"])
        medians = [p["median_s"] for p in runs]
        results[name] = {**best, "repetitions": repetitions, "pass_medians_s": medians}
    return results


# --- child: memory per worker ---
def _settings(**overrides: Any) -> Any:
    from musicrec.engine.als import settings_for

    return settings_for("implicit", factors=FACTORS, **overrides)


def synthetic_matrix(scale: float) -> Any:
    """The synthetic shape's rating matrix at ``scale`` (cached by ``synthetic.load``)."""
    return rating_matrix(synthetic.load(scale))


def rating_matrix(data: synthetic.Listening) -> Any:
    """Plays mapped to 1..10 as the import does; built directly (ids are 0..n-1 and pairs
    distinct), as ``from_arrays``'s checks take minutes at full size."""
    import scipy.sparse as sp

    from musicrec.engine.data import IdMap, RatingMatrix
    from musicrec.engine.mapping import listens_to_ratings

    ratings = listens_to_ratings(data.user_ids, data.plays).astype(np.float32)
    shape = (data.n_users, data.n_artists)
    matrix = sp.csr_matrix((ratings, (data.user_ids, data.artist_ids)), shape=shape)
    matrix.sort_indices()
    return RatingMatrix(IdMap(np.arange(shape[0])), IdMap(np.arange(shape[1])), matrix)


def train_model(matrix: Any, iterations: int) -> Any:
    from musicrec.engine.als import train

    return train(matrix, _settings(iterations=iterations))


def _catalogue_names(count: int) -> list[str]:
    """``count`` artist names: the shared data's real names, numbered again past its size."""
    from musicrec.datasets import load_lastfm

    shared = os.environ.get("STARTER_DATA") or measure.REPO.parent / "shared" / "data" / "lastfm-2k"
    names = list(load_lastfm(Path(shared)).artist_names)
    return [
        names[i % len(names)] if i < len(names) else f"{names[i % len(names)]} {i // len(names)}"
        for i in range(count)
    ]


def child_memory(scale: float) -> dict[str, Any]:
    from musicrec.engine.artifacts import ModelStore

    matrix = synthetic_matrix(scale)
    model = train_model(matrix, iterations=1)
    arrays = {name: int(array.nbytes) for name, array in model.arrays().items()}
    with tempfile.TemporaryDirectory() as folder:
        ModelStore(folder).publish(model, metrics={}, data_fingerprint="scaling")
        del model, matrix
        child = measure.run_child(
            ["benchmarks/scaling.py", "--child", "load", "--model-dir", folder], CHILD_TIMEOUT_S
        )
    return {"scale": scale, "arrays_bytes": arrays, **child.result}


def child_load(model_dir: str) -> dict[str, Any]:
    """In a fresh process: RSS added by each thing a web worker keeps."""
    from musicrec.engine.artifacts import ModelStore
    from musicrec.services.search import ArtistSearchIndex, Entry

    start = _rss_mb()
    loaded = ModelStore(model_dir).current()
    assert loaded is not None
    model = loaded.model
    after_load = _rss_mb()
    rng = np.random.default_rng(5)
    artists = model.items.ids[rng.choice(len(model.items), 10, replace=False)]
    model.recommend_for_ratings(artists, np.full(10, 8.0), n=10, explain=3)
    after_recommend = _rss_mb()
    model.similar_artists(int(artists[0]), 10)
    after_similar = _rss_mb()
    n_artists = len(model.items)
    names = _catalogue_names(n_artists)
    entries = [
        Entry(int(i), name, int(raters))
        for i, name, raters in zip(model.items.ids, names, model.rating_counts(), strict=True)
    ]
    before_index = _rss_mb()
    index = ArtistSearchIndex(entries)
    after_index = _rss_mb()
    assert len(index) == n_artists
    return {
        "users": len(model.users),
        "artists": n_artists,
        "ratings": int(model.train.nnz),
        "rss_start_mb": start,
        "model_mb": after_load - start,
        "ranking_copy_mb": after_recommend - after_load,
        "similar_mb": after_similar - after_recommend,
        "search_index_mb": after_index - before_index,
        "rss_end_mb": after_index,
    }


# --- child: one request's cost by catalogue size ---
def random_model(n_artists: int, seed: int = 11) -> Any:
    """A 64-factor implicit model over ``n_artists`` with random factors and a Zipf-shaped
    training matrix (fold-in's BM25 weights and popularity need one)."""
    import scipy.sparse as sp

    from musicrec.engine.als import model_from_arrays
    from musicrec.engine.implicit_als import bm25_stats

    rng = np.random.default_rng(seed)
    settings = _settings()
    weights = 1.0 / (rng.permutation(n_artists) + 10.0) ** 0.95
    cumulative = np.cumsum(weights) / weights.sum()
    columns = np.searchsorted(cumulative, rng.random(REQUEST_USERS * REQUEST_RATINGS))
    rows = np.repeat(np.arange(REQUEST_USERS), REQUEST_RATINGS)
    values = rng.integers(1, 11, rows.size).astype(np.float32)
    train = sp.csr_matrix((values, (rows, columns)), shape=(REQUEST_USERS, n_artists))
    train.sum_duplicates()
    train.sort_indices()
    stats = bm25_stats(train, settings.bm25_k1, settings.bm25_b)
    arrays = {
        "user_ids": np.arange(REQUEST_USERS, dtype=np.int64),
        "item_ids": np.arange(n_artists, dtype=np.int64),
        "user_factors": rng.normal(0, 0.1, (REQUEST_USERS, FACTORS)),
        "item_factors": rng.normal(0, 0.1, (n_artists, FACTORS)),
        "train_indptr": train.indptr,
        "train_indices": train.indices,
        "train_data": train.data,
        "global_mean": np.array(0.0),
        "bm25_idf": stats.idf,
        "bm25_average_length": np.array(stats.average_length),
    }
    return model_from_arrays(arrays, settings)


def child_request(n_artists: int) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    model = random_model(n_artists)
    rng = np.random.default_rng(3)
    inputs = [
        (rng.choice(n_artists, 10, replace=False), rng.integers(1, 11, 10).astype(float))
        for _ in range(REQUEST_RUNS)
    ]

    def request(artists: np.ndarray, ratings: np.ndarray) -> Any:
        """What a recommendation request runs: fold-in from the ratings, top 10, three reasons."""
        return model.recommend_for_ratings(artists, ratings, n=10, explain=3)

    def fold_in(artists: np.ndarray, ratings: np.ndarray) -> Any:
        return model.fold_in(artists, ratings).vector

    with threadpool_limits(1, "blas"):
        for arguments in inputs[:20]:  # warm-up, and the float32 copy is made once
            request(*arguments)
        timed = quietest_each({"request": request, "fold_in": fold_in}, inputs, REPETITIONS)
    return {
        "artists": n_artists,
        "factors": FACTORS,
        **timed,
        "peak_rss_mb": measure.own_peak_rss_mb(),
    }


# --- the capacity model ---
def _case(latest: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for case in latest:
        if case.get("case") == name:
            return case
    raise KeyError(f"{LATEST_JSON} has no case {name!r}: run `make bench` first")


def _line(x: list[float], y: list[float]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line through the points."""
    slope, intercept = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    return float(intercept), float(slope)


def capacity(scaling: dict[str, Any], latest: list[dict[str, Any]]) -> dict[str, Any]:
    """Every derived figure of the doc, from the measurements and the stated assumptions."""
    target_ratings = TARGET_USERS * RATINGS_PER_USER

    # Training: seconds per iteration against ratings, from the two measured scale runs.
    tenth, full = _case(latest, "train-scale-tenth"), _case(latest, "train-scale-full")
    points = [tenth["project"]["ratings"], full["project"]["ratings"]]
    spark_a, spark_b = _line(
        points, [tenth["reference"]["median_s"], full["reference"]["median_s"]]
    )
    ours_a, ours_b = _line(points, [tenth["project"]["median_s"], full["project"]["median_s"]])
    mem_a, mem_b = _line(points, [tenth["project"]["peak_rss_mb"], full["project"]["peak_rss_mb"]])
    spark_local_iteration = spark_a + spark_b * target_ratings  # local[2]: 2 cores
    spark = [
        {
            "executors": n,
            "cores": n * EXECUTOR_CORES,
            "iteration_s": spark_a
            + spark_b * target_ratings * 2 / (n * EXECUTOR_CORES * PARALLEL_EFFICIENCY),
        }
        for n in EXECUTORS
    ]
    for row in spark:
        row["training_min"] = row["iteration_s"] * TRAIN_ITERATIONS / 60

    # One request against catalogue size. At the smallest catalogue a request is all fold-in,
    # reasons and overhead; what it costs more at a larger one is the work over every artist
    # (product, discovery penalty, choosing the top 10), which an index would replace.
    requests = sorted(scaling["request"], key=lambda r: r["artists"])
    base, at_target = requests[0], requests[-1]
    every_artist = np.maximum.accumulate(
        [max(0.0, r["request"]["median_s"] - base["request"]["median_s"]) for r in requests]
    )
    sizes = [r["artists"] for r in requests]
    inprocess = _case(latest, "serve-inprocess")["project"]
    http = _case(latest, "serve-http")["project"]
    served = re.search(r"([\d,]+) artists", inprocess["label"])  # "..., 17,493 artists, ..."
    assert served is not None, inprocess["label"]
    served_artists = int(served.group(1).replace(",", ""))
    cores = 2
    cpu_per_request = cores / http["rps"]  # the measured node, its database beside it
    rest = cpu_per_request - inprocess["median_s"]  # what a request costs besides the model

    # The index: nprobe chosen on one half of the listeners (the smallest reaching the recall
    # target), its figures from the other half. At 1M artists the same share of the lists is
    # probed, so the recall is assumed kept and the query time grows with the catalogue.
    ann = scaling["ann"]
    chosen = next(
        (s for s in ann["settings"] if s["choose"]["recall_at_10"] >= ann["recall_target"]),
        ann["settings"][-1],
    )
    ann_query_at_target = chosen["query"]["median_s"] * at_target["artists"] / ann["artists"]
    exact_at_target = float(every_artist[-1])
    ann_request = base["request"]["median_s"] + ann_query_at_target

    def node_rps(model_s: float) -> float:
        return cores / (rest + model_s)

    nodes_rps = {
        "measured": http["rps"],
        "exact_1m": node_rps(at_target["request"]["median_s"]),
        "ann_1m": node_rps(ann_request),
    }
    peak_rate = (
        TARGET_USERS * DAILY_ACTIVE_SHARE * REQUESTS_PER_ACTIVE_USER / 86_400 * PEAK_TO_AVERAGE
    )
    rates = sorted({*REQUEST_RATES, round(peak_rate)})
    nodes = [
        {
            "rate": rate,
            **{
                key: math.ceil(rate / (value * NODE_UTILISATION))
                for key, value in nodes_rps.items()
            },
        }
        for rate in rates
    ]
    # Exact scoring becomes the larger half of a request's CPU past this many artists (between
    # measured sizes on the straight line joining them; past the largest, in proportion).
    if rest <= every_artist[-1]:
        ann_needed_at = float(np.interp(rest, every_artist, sizes))
    else:
        ann_needed_at = rest / every_artist[-1] * sizes[-1]

    # Memory: bytes per unit from the largest measured version's arrays.
    biggest = max(scaling["memory"], key=lambda m: m["artists"])
    arrays = biggest["arrays_bytes"]
    per_artist = arrays["item_factors"] / biggest["artists"]
    per_user = arrays["user_factors"] / biggest["users"]
    per_rating = (arrays["train_indices"] + arrays["train_data"]) / biggest["ratings"]
    index_per_artist = biggest["search_index_mb"] / biggest["artists"]
    lazy_per_artist = (biggest["ranking_copy_mb"] + biggest["similar_mb"]) / biggest["artists"]
    worker_at_target = {
        "item_side_mb": TARGET_ARTISTS * per_artist / 2**20,
        "user_factors_mb": TARGET_USERS * per_user / 2**20,
        "training_ratings_mb": target_ratings * per_rating / 2**20,
        "lazy_copies_mb": TARGET_ARTISTS * lazy_per_artist,
        "search_index_mb": TARGET_ARTISTS * index_per_artist,
    }
    worker_at_target["total_mb"] = sum(worker_at_target.values())
    return {
        "target_ratings": target_ratings,
        "spark_fit": {"intercept_s": spark_a, "per_rating_s": spark_b},
        "spark_local_iteration_s": spark_local_iteration,
        "spark": spark,
        "embedded": {
            "iteration_s": ours_a + ours_b * target_ratings,
            "training_min": (ours_a + ours_b * target_ratings) * TRAIN_ITERATIONS / 60,
            "peak_rss_gb": (mem_a + mem_b * target_ratings) / 1024,
        },
        "request_base": base,
        "every_artist_s": dict(zip(sizes, every_artist.tolist(), strict=True)),
        "request_at_target": at_target,
        "served_artists": served_artists,
        "cpu_per_request_s": cpu_per_request,
        "rest_s": rest,
        "ann_chosen": chosen,
        "ann_query_at_target_s": ann_query_at_target,
        "ann_index_at_target_mb": ann["index"]["mb"] * at_target["artists"] / ann["artists"],
        "ann_request_s": ann_request,
        "exact_at_target_s": exact_at_target,
        "exact_share_at_target": exact_at_target / (rest + at_target["request"]["median_s"]),
        "ann_needed_at_artists": ann_needed_at,
        "node_rps": nodes_rps,
        "peak_rate": peak_rate,
        "nodes": nodes,
        "bytes_per_artist": per_artist,
        "bytes_per_user": per_user,
        "bytes_per_rating": per_rating,
        "worker_at_target_mb": worker_at_target,
    }


# --- docs/scaling.md ---
def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB" if value < 10_240 else f"{value / 1024:,.1f} GB"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(scaling: dict[str, Any], latest: list[dict[str, Any]]) -> str:
    model = capacity(scaling, latest)
    http = _case(latest, "serve-http")["project"]
    inprocess = _case(latest, "serve-inprocess")["project"]
    inprocess_292k = _case(latest, "serve-inprocess-292k")["project"]
    tenth, full = _case(latest, "train-scale-tenth"), _case(latest, "train-scale-full")
    ann = scaling["ann"]
    chosen = model["ann_chosen"]
    at_target = model["request_at_target"]
    worker = model["worker_at_target_mb"]

    memory_rows = [
        [
            f"{m['scale']:g}",
            f"{m['users']:,}",
            f"{m['artists']:,}",
            f"{m['ratings']:,}",
            _mb(m["model_mb"]),
            _mb(m["ranking_copy_mb"]),
            _mb(m["similar_mb"]),
            _mb(m["search_index_mb"]),
            _mb(m["model_mb"] + m["ranking_copy_mb"] + m["similar_mb"] + m["search_index_mb"]),
        ]
        for m in sorted(scaling["memory"], key=lambda m: m["artists"])
    ]

    def _ns(r: dict[str, Any]) -> str:
        return f"{model['every_artist_s'][r['artists']] / r['artists'] * 1e9:.1f} ns"

    request_rows = [
        [
            f"{r['artists']:,}",
            _ms(r["fold_in"]["median_s"]),
            _ms(r["request"]["median_s"]),
            _ms(r["request"]["p99_s"]),
            " / ".join(f"{m * 1000:.2f}" for m in r["request"]["pass_medians_s"]),
            *(
                [_ms(model["every_artist_s"][r["artists"]]), _ns(r)]
                if r["artists"] != model["request_base"]["artists"]
                else ["(the base)", ""]
            ),
        ]
        for r in sorted(scaling["request"], key=lambda r: r["artists"])
    ]
    spark_rows = [
        [
            str(row["executors"]),
            str(row["cores"]),
            f"{row['iteration_s']:,.0f} s",
            f"{row['training_min']:,.0f} min",
        ]
        for row in model["spark"]
    ]
    ann_rows = [
        [
            str(s["probes"]),
            f"{s['probes'] / ann['index']['lists']:.1%}",
            f"{s['choose']['recall_at_10']:.3f}",
            f"{s['report']['recall_at_10']:.3f}",
            f"{s['report']['ndcg_at_10']:.4f}",
            f"{s['report']['ndcg_at_10'] - s['report']['exact_ndcg_at_10']:+.4f}",
            _ms(s["query"]["median_s"]),
            _ms(s["query"]["p99_s"]),
        ]
        for s in ann["settings"]
    ]
    node_rows = [
        [f"{row['rate']:,}", str(row["measured"]), str(row["exact_1m"]), str(row["ann_1m"])]
        for row in model["nodes"]
    ]
    hnsw = ann["hnsw"]
    hnsw_recalls = ", ".join(
        f"{h['recall_at_10']:.3f} at efSearch {h['ef_search']}" for h in hnsw["settings"]
    )
    norms = ann["vector_norms"]
    ndcg_exact = chosen["report"]["exact_ndcg_at_10"]
    ndcg_cost = chosen["report"]["ndcg_at_10"] - ndcg_exact
    return f"""# Scaling: one node's memory, its capacity, and a model for 10 million users

Generated by `{COMMAND}` (`make scaling`) from two files; nothing below is typed by hand.
`benchmarks/results/scaling.json` holds this script's own measurements: {scaling["measured_at"]},
{scaling["seconds"]} s on {scaling["machine"]}, load average {scaling["load_start"]} at the
start and {scaling["load_end"]} at the end. `benchmarks/results/latest.json` holds `make bench`'s
figures (another run: docs/benchmarks.md says when and under what load each case was
measured); each figure below taken from it says so.
`python benchmarks/scaling.py --render` writes this page again from the two files. The data is
the seeded synthetic Last.fm-360K shape of `benchmarks/synthetic.py` at several scales.

## What one web worker holds in memory

Each gunicorn worker of `musicrec serve` keeps the served model version and the catalogue's
search index in its own memory (a node runs one worker per core). Resident memory added by
each, measured in a fresh process per size (`--child load`): the version as loaded
(`ModelStore.current()`: item and user factors, the training ratings, BM25 weights); the copies
the first recommendation and the first similar-artists request make (float32 item vectors for
choosing; unit vectors and the by-artist ratings for similar artists); and the search index
(`services/search.py`) over as many names. {FACTORS} factors.

{
        _table(
            [
                "scale",
                "users",
                "artists",
                "ratings",
                "model version",
                "float32 copy",
                "similar-artist copies",
                "search index",
                "total",
            ],
            memory_rows,
        )
    }

Per unit, from the largest version's arrays: {model["bytes_per_artist"]:.0f} bytes of item
factors per artist, {model["bytes_per_user"]:.0f} bytes of user factors per user and
{model["bytes_per_rating"]:.1f} bytes per training rating. The model version grows with the
users and their ratings, not only with the catalogue: the fold-in of a request needs only the
artist side (item factors, BM25 weights, popularity), but the version also carries every
trained user's factors and ratings (for known users' recommendations, erasure and the
similar-artists listener counts).

## Measured single-node capacity (`make bench`, not this script)

From `benchmarks/results/latest.json`: the benchmark machine (2 cores, PostgreSQL on the same
machine), {inprocess["label"].split(", ")[1]}; `make bench`'s serve-http ran at load average
{" at its start, ".join(http.get("load", ["?", "?"]))} at its end:

- `musicrec serve` at saturation: **{http["rps"]:,.0f} recommendation requests/s** (p50
  {http["saturated"]["p50_ms"]:.1f} ms, p99 {http["saturated"]["p99_ms"]:.1f} ms,
  {http["saturated"]["errors"]} errors, {http["saturated"]["connections"]} connections);
  at a fixed {http["fixed_rate"]["rate"]} requests/s: p50 {http["fixed_rate"]["p50_ms"]:.1f} ms,
  p99 {http["fixed_rate"]["p99_ms"]:.1f} ms. Search: {http["search_rps"]:,.0f} requests/s.
- So one request costs {_ms(model["cpu_per_request_s"])} of CPU on that node, of which the
  model's part (fold-in, top 10, reasons, in process: `make bench`'s serve-inprocess) is
  {_ms(inprocess["median_s"])} at {model["served_artists"]:,} artists (and
  {_ms(inprocess_292k["median_s"])} at 292,385 artists, serve-inprocess-292k); the rest
  ({_ms(model["rest_s"])}) is HTTP, sessions, SQL and the database server. This "rest" is what
  the capacity model below adds to this script's own model timings.

## A capacity model for 10 million users and 1 million artists

Assumptions (constants at the top of `benchmarks/scaling.py`):

- {TARGET_USERS:,} users and {TARGET_ARTISTS:,} artists; {RATINGS_PER_USER:.1f} ratings per
  user as in Last.fm-360K, so {model["target_ratings"] / 1e6:,.0f} million ratings.
- Training cost per iteration is linear in the number of ratings, fitted through the two
  measured scale runs of `make bench` ({tenth["project"]["ratings"]:,} and
  {full["project"]["ratings"]:,} ratings); Spark spreads the part that grows with the ratings
  over executors of {EXECUTOR_CORES} cores at {PARALLEL_EFFICIENCY:.0%} of the measured
  per-core throughput (shuffles between machines), and keeps the fixed part per iteration;
  {TRAIN_ITERATIONS} iterations.
- Request rate: {DAILY_ACTIVE_SHARE:.0%} of users active a day, {REQUESTS_PER_ACTIVE_USER}
  recommendation requests each, the peak {PEAK_TO_AVERAGE:g} times the day's average:
  **{model["peak_rate"]:,.0f} requests/s** at peak. A node is the benchmark machine (2 cores)
  planned at {NODE_UTILISATION:.0%} of its saturated throughput; the request's cost besides
  the model stays what it was measured.
- The approximate index at 1 million artists probes the same share of its lists as chosen at
  292k, so it keeps the recall measured there and its query time grows in proportion to the
  catalogue (a conservative reading: with more lists it could probe a smaller share).

### Training on Spark

Measured on local[2] (2 cores): {tenth["reference"]["median_s"]:.1f} s per iteration at
{tenth["project"]["ratings"]:,} ratings and {full["reference"]["median_s"]:.1f} s at
{full["project"]["ratings"]:,}: {model["spark_fit"]["per_rating_s"] * 1e6:.2f} s per million
ratings plus {model["spark_fit"]["intercept_s"]:.1f} s. At
{model["target_ratings"] / 1e6:,.0f} million ratings that is
{model["spark_local_iteration_s"] / 60:,.0f} min per iteration on 2 cores; spread out:

{_table(["executors", "cores", "per iteration", f"{TRAIN_ITERATIONS} iterations"], spark_rows)}

The embedded engine (one machine), extrapolated the same way from its
{tenth["project"]["median_s"]:.2f} and {full["project"]["median_s"]:.2f} s per iteration:
{model["embedded"]["iteration_s"]:,.0f} s per iteration, {model["embedded"]["training_min"]:,.0f}
min for {TRAIN_ITERATIONS} iterations, but a peak of {model["embedded"]["peak_rss_gb"]:,.0f} GB of
memory (its peak grew from {tenth["project"]["peak_rss_mb"]:,.0f} to
{full["project"]["peak_rss_mb"]:,.0f} MB): past one machine's memory, which is where Spark
takes over.

### One request at 1 million artists

Fold-in from 10 ratings, top 10 and three reasons (`recommend_for_ratings`), 1 BLAS thread,
on models with random factors (`--child request`, this script): {REPETITIONS} passes over the
same {REQUEST_RUNS} requests per size, the pass with the lowest median reported (its median and
p99; other work on the machine only adds time), the medians of all passes beside it.

{
        _table(
            [
                "artists",
                "fold-in",
                "whole request (median)",
                "p99",
                "medians of the passes (ms)",
                "over every artist",
                "per artist",
            ],
            request_rows,
        )
    }

For comparison, `make bench`'s serve-inprocess-292k (its own run, trained factors) measured
{_ms(inprocess_292k["median_s"])} at 292,385 artists. The fold-in (a {FACTORS}x{FACTORS} solve)
and the reasons do not depend on the catalogue: at {model["request_base"]["artists"]:,} artists
a request is nearly all of that ({_ms(model["request_base"]["request"]["median_s"])}). What a
request costs more at a larger catalogue ("over every artist": the median less that one) is the
work that streams every artist's vector: the product, the discovery penalty and choosing the
top 10. At {at_target["artists"]:,} artists it is {_ms(model["exact_at_target_s"])}:
{model["exact_share_at_target"]:.0%} of a request's CPU with `make bench`'s rest of a request.

### Nodes for a request rate

Nodes of 2 cores needed (at {NODE_UTILISATION:.0%} of saturation). The columns come from two
runs: "as measured" is `make bench`'s serve-http throughput
({model["node_rps"]["measured"]:,.0f} requests/s a node at {model["served_artists"]:,} artists);
the 1-million-artist columns add this script's model time at {at_target["artists"]:,} artists
(exact: {_ms(at_target["request"]["median_s"])}; with the index: {_ms(model["ann_request_s"])}) to
`make bench`'s rest of a request ({_ms(model["rest_s"])}): {
        model["node_rps"]["exact_1m"]:,.0f} and {model["node_rps"]["ann_1m"]:,.0f} requests/s a
node.

{_table(["requests/s", "as measured", "1M artists, exact", "1M artists, IVF index"], node_rows)}

The database, Redis and the worker are not in these counts: with nodes of their own, the
measured node's PostgreSQL share goes to the database server.

### When an approximate nearest-neighbour index becomes necessary, and what it costs

Measured by `--child ann` (`benchmarks/scaling_ann.py`, this script's run) on the synthetic
Last.fm-360K shape at scale {ann["scale"]:g} trained for real ({ann["artists"]:,} artists,
{ann["users"]:,} users, {ann["ratings"]:,} ratings, {FACTORS} factors, {ann["iterations"]}
iterations, {ann["training_s"]:.0f} s).
{ann["listeners"]:,} listeners with 20 to 300 artists had {ann["held_out"]:.0%} of them held out
of training; each one's query is the fold-in of their remaining ratings (what a request
computes), their rated artists excluded. Exact: `engine.ranking.top_n` over the float32 product,
as a request chooses, {_ms(ann["exact_query"]["median_s"])} median a query (1 thread). Both
rank by the plain inner product: the app's default discovery setting re-ranks with a popularity
penalty, which an index would apply to a larger candidate list.

The index: FAISS {ann["faiss"]} `IndexIVFFlat` with the inner product, {ann["index"]["lists"]:,}
lists (k-means), built in {ann["index"]["build_s"]:.1f} s (2 threads), {_mb(ann["index"]["mb"])}
(it holds the {_mb(ann["item_vectors_mb"])} of float32 vectors itself; about
{_mb(model["ann_index_at_target_mb"])} at 1 million artists). A query scores the `nprobe` lists
whose centroids score best, then every vector in them exactly. Half of the listeners choose
`nprobe` (the smallest with recall at least {ann["recall_target"]:.0%}), the other half
report. Query times, exact and for each `nprobe`: the quietest of
{ann["exact_query"]["repetitions"]} passes over {ann["timed_queries"]} of the reported
listeners, 1 thread, the passes of exact scoring and of every setting taken in turn so that
load on the machine falls on all alike.

{
        _table(
            [
                "nprobe",
                "share of lists",
                "recall@10 (choosing half)",
                "recall@10 (reported half)",
                "NDCG@10 (reported)",
                "vs exact",
                "query median",
                "query p99",
            ],
            ann_rows,
        )
    }

Chosen: nprobe = {chosen["probes"]}: recall {chosen["report"]["recall_at_10"]:.3f} of the exact
top 10 and NDCG@10 {chosen["report"]["ndcg_at_10"]:.4f} against {ndcg_exact:.4f} exact
({ndcg_cost:+.4f}) on the reported half, at {_ms(chosen["query"]["median_s"])} a query instead of
{_ms(ann["exact_query"]["median_s"])}; at {at_target["artists"]:,} artists about
{_ms(model["ann_query_at_target_s"])}.

Why not HNSW: FAISS `IndexHNSWFlat` with the inner product (M = {hnsw["m"]}, efConstruction =
{hnsw["ef_construction"]}) on the same vectors, built in {hnsw["build_s"]:.0f} s, finds
a recall of {hnsw_recalls} (all listeners). Its graph has fallen apart: the median artist
fills {hnsw["median_links"]:.0f} of its {2 * hnsw["m"]} link slots at level 0, and
{hnsw["share_one_link"]:.1%} fill at most one. HNSW keeps a candidate neighbour only if it is
nearer to the new artist than to every neighbour already kept; under the inner product a long
vector is "near" everything, and the artist vectors' lengths range from {norms["p1"]:.4f} (1st
percentile) through {norms["median"]:.4f} (median) to {norms["max"]:.2f}, so the first long
neighbour shuts out the rest (a small catalogue hides this: a search covers much of a small
graph however thin). The IVF index depends on no graph: it scores whole lists
exactly, and probing every list is exact scoring; its recall depends on how the vectors
cluster, which is why it is measured here and not assumed
(`tests/benchmarks/test_scaling_ann.py` checks it against the exact top 10).

Exact scoring costs as much CPU as `make bench`'s whole rest of a request at about
**{model["ann_needed_at_artists"]:,.0f} artists**: past that it is the larger half of every
request and the node count grows with the catalogue; that is where an index pays for itself.
At {at_target["artists"]:,} artists a request with the index costs
{_ms(model["ann_request_s"])} of model time instead of {_ms(at_target["request"]["median_s"])}
(this script's request at {model["request_base"]["artists"]:,} artists, where the work over
every artist is next to nothing, plus the index's query).

### Memory per worker at 10 million users and 1 million artists

From the per-unit figures above, as the model version is stored today:

{
        _table(
            ["part", "per worker"],
            [
                ["item factors (float64)", _mb(worker["item_side_mb"])],
                ["float32 copy and similar-artist copies", _mb(worker["lazy_copies_mb"])],
                ["search index", _mb(worker["search_index_mb"])],
                ["user factors", _mb(worker["user_factors_mb"])],
                ["training ratings", _mb(worker["training_ratings_mb"])],
                ["total", _mb(worker["total_mb"])],
            ],
        )
    }

The user side (factors and training ratings) is most of it and serves no new user's request:
at this size a serving version should carry the artist side only (and the similar-artist
lists precomputed), leaving per worker what the catalogue needs.
"""


def measure_all(quick: bool = False) -> dict[str, Any]:
    """Every child in turn; ``quick``: the small sizes, to try the script out."""
    memory_scales = QUICK_MEMORY_SCALES if quick else MEMORY_SCALES
    request_artists = QUICK_REQUEST_ARTISTS if quick else REQUEST_ARTISTS
    ann_scale = QUICK_ANN_SCALE if quick else ANN_SCALE
    started = time.perf_counter()
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_start": measure.load_average(),
        "quick": quick,
        "memory": [],
        "request": [],
    }
    for scale in memory_scales:
        print(f"memory per worker, scale {scale:g} ...", flush=True)
        results["memory"].append(
            measure.run_child(
                ["benchmarks/scaling.py", "--child", "memory", "--scale", str(scale)],
                CHILD_TIMEOUT_S,
            ).result
        )
    for artists in request_artists:
        print(f"one request, {artists:,} artists ...", flush=True)
        results["request"].append(
            measure.run_child(
                ["benchmarks/scaling.py", "--child", "request", "--artists", str(artists)],
                CHILD_TIMEOUT_S,
            ).result
        )
    print(f"approximate nearest neighbours, scale {ann_scale:g} ...", flush=True)
    results["ann"] = measure.run_child(
        ["benchmarks/scaling.py", "--child", "ann", "--scale", str(ann_scale)], CHILD_TIMEOUT_S
    ).result
    results["load_end"] = measure.load_average()
    results["seconds"] = round(time.perf_counter() - started)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--render", action="store_true", help="only render docs/scaling.md")
    parser.add_argument("--quick", action="store_true", help="small sizes; results in /tmp")
    parser.add_argument("--child", choices=("memory", "load", "request", "ann"))
    parser.add_argument("--scale", type=float)
    parser.add_argument("--artists", type=int)
    parser.add_argument("--model-dir")
    options = parser.parse_args()
    if options.child == "memory":
        measure.report(child_memory(options.scale))
        return
    if options.child == "load":
        measure.report(child_load(options.model_dir))
        return
    if options.child == "request":
        measure.report(child_request(options.artists))
        return
    if options.child == "ann":
        import scaling_ann

        measure.report(scaling_ann.child_ann(options.scale or ANN_SCALE))
        return
    results_path, doc_path = SCALING_JSON, DOC
    if options.quick:
        folder = Path(tempfile.gettempdir())
        results_path, doc_path = folder / "scaling-quick.json", folder / "scaling-quick.md"
    if not options.render:
        results = measure_all(options.quick)
        results_path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {results_path} in {results['seconds']} s")
    scaling = json.loads(results_path.read_text())
    latest = json.loads(LATEST_JSON.read_text())
    doc_path.write_text(render(scaling, latest))
    print(f"wrote {doc_path}")


if __name__ == "__main__":
    main()
