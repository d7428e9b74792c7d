"""An approximate nearest-neighbour index for the top 10, against exact scoring (``--child ann``
of ``scaling.py``; its figures are in docs/scaling.md).

A request's top 10 is the maximum inner product search (MIPS) of the user's folded-in vector
over every artist's vector. The index is FAISS ``IndexIVFFlat`` with the inner product: k-means
cuts the artists into ``nlist`` lists, a query scores the ``nprobe`` lists whose centroids
score best and then every vector in them exactly, with the user's rated artists excluded inside
the search (an ``IDSelector``), so the ten it returns are ten allowed artists.

Why not HNSW: FAISS's ``IndexHNSWFlat`` with the inner product keeps, when it links an artist
into the graph, a candidate neighbour only if it is nearer to the artist than to every
neighbour already kept. Under the inner product "nearer" means a larger product, and the ALS
artist vectors of the 292k shape differ in length by nearly three orders of magnitude: a long
neighbour kept first scores higher with every other candidate than the artist itself does,
so nearly every artist keeps a single link. The graph falls apart
and a search misses most of the exact top 10 whatever its ``efSearch`` (measured here as
``hnsw``: its recall and the links per artist). The usual reduction to L2 (one more dimension,
sqrt(max|y|^2 - |y|^2)) keeps the graph whole but puts the many short vectors at one pole,
at nearly equal distances from every query; tried, it was little better. On the 29k-artist
tenth the graph is as thin but small enough for a search to cover much of it, so recall is
high there: how the fault hid.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

import measure
import scaling

ITERATIONS, LISTENERS, HELD_OUT = 8, 4_000, 0.2
PROBES = (4, 8, 16, 32, 64, 128)  # nprobe settings tried
RECALL_TARGET = 0.95
TIMED_QUERIES, TIMING_REPETITIONS = 200, 5
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, (64, 256)
EXACT_BLOCK = 64  # listeners scored together when computing the exact top 10


def list_count(n_items: int) -> int:
    """nlist: the power of two nearest 2 sqrt(n) (1024 at 292k artists)."""
    return 2 ** max(1, round(math.log2(2 * math.sqrt(n_items))))


class InnerProductIndex:
    """The approximately best ``n`` items by inner product with a vector, as item indices
    (the rows of ``items``), never one of ``banned``: FAISS ``IndexIVFFlat``."""

    def __init__(self, items: np.ndarray, lists: int | None = None, seed: int = 1) -> None:
        import faiss

        vectors = np.ascontiguousarray(items, dtype=np.float32)
        self.lists = lists or list_count(vectors.shape[0])
        self._quantizer = faiss.IndexFlatIP(vectors.shape[1])  # the IVF index keeps a pointer
        self.index = faiss.IndexIVFFlat(
            self._quantizer, vectors.shape[1], self.lists, faiss.METRIC_INNER_PRODUCT
        )
        self.index.cp.seed = seed
        self.index.train(vectors)
        self.index.add(vectors)  # ids 0..n-1: FAISS ids are the item indices

    def top(self, vector: np.ndarray, n: int, banned: np.ndarray, probes: int) -> np.ndarray:
        """Item indices of the best ``n`` found in the ``probes`` best lists, best first."""
        import faiss

        excluded = faiss.IDSelectorBatch(np.asarray(banned, dtype=np.int64))
        allowed = faiss.IDSelectorNot(excluded)  # holds a pointer to ``excluded``
        parameters = faiss.SearchParametersIVF(sel=allowed, nprobe=probes)
        query = np.ascontiguousarray(vector, dtype=np.float32)[None, :]
        _scores, found = self.index.search(query, n, params=parameters)
        return found[0][found[0] >= 0]

    def nbytes(self) -> int:
        import faiss

        return int(faiss.serialize_index(self.index).nbytes)


def exact_top(
    items: np.ndarray, vectors: np.ndarray, banned: list[np.ndarray], n: int = 10
) -> list[np.ndarray]:
    """Each vector's exact top ``n`` (``engine.ranking.top_n``, what a request chooses with
    over the float32 vectors), scored a block of vectors at a time."""
    from musicrec.engine.ranking import top_n

    found: list[np.ndarray] = []
    for start in range(0, len(vectors), EXACT_BLOCK):
        scores = vectors[start : start + EXACT_BLOCK] @ items.T  # (block, items), rows contiguous
        found += [top_n(row, n, banned[start + r]) for r, row in enumerate(scores)]
    return found


def recall(found: list[np.ndarray], truth: list[np.ndarray]) -> np.ndarray:
    """Per query: the share of the exact top k the index found."""
    pairs = zip(found, truth, strict=True)
    return np.array([np.intersect1d(f, t).size / max(1, t.size) for f, t in pairs])


def held_out_split(
    matrix: Any, rng: np.random.Generator, listeners: int
) -> tuple[Any, np.ndarray, list]:
    """Hide ``HELD_OUT`` of the artists of ``listeners`` listeners with 20..300 artists."""
    counts = np.diff(matrix.matrix.indptr)
    eligible = np.flatnonzero((counts >= 20) & (counts <= 300))
    chosen = np.sort(rng.choice(eligible, min(listeners, eligible.size), replace=False))
    csr = matrix.matrix.copy()
    held: list[np.ndarray] = []
    for user in chosen:
        start, end = csr.indptr[user], csr.indptr[user + 1]
        columns = csr.indices[start:end]
        hidden = rng.choice(columns.size, max(1, round(columns.size * HELD_OUT)), replace=False)
        held.append(columns[hidden].copy())
        csr.data[start:end][hidden] = 0.0
    csr.eliminate_zeros()
    return type(matrix)(matrix.users, matrix.items, csr), chosen, held


def hnsw_inner_product(items: np.ndarray, vectors: np.ndarray, banned: list, truth: list) -> dict:
    """FAISS HNSW with the inner product on the same vectors: build time, links per artist
    at level 0 (of 2M slots) and recall at each ``efSearch`` (the reason it is not used)."""
    import faiss

    started = time.perf_counter()
    index = faiss.IndexHNSWFlat(items.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(items)
    build_s = time.perf_counter() - started
    offsets = faiss.vector_to_array(index.hnsw.offsets).astype(np.int64)
    neighbours = faiss.vector_to_array(index.hnsw.neighbors)
    sample = np.arange(0, items.shape[0], max(1, items.shape[0] // 10_000))
    slots = offsets[sample][:, None] + np.arange(2 * HNSW_M)[None, :]  # level 0 comes first
    links = (neighbours[slots] >= 0).sum(axis=1)
    settings = []
    for ef in HNSW_EF_SEARCH:
        found = []
        for vector, rated in zip(vectors, banned, strict=True):
            excluded = faiss.IDSelectorBatch(rated.astype(np.int64))
            allowed = faiss.IDSelectorNot(excluded)
            parameters = faiss.SearchParametersHNSW(sel=allowed, efSearch=ef)
            _scores, ids = index.search(vector[None, :], 10, params=parameters)
            found.append(ids[0][ids[0] >= 0])
        settings.append({"ef_search": ef, "recall_at_10": float(recall(found, truth).mean())})
    return {
        "m": HNSW_M,
        "ef_construction": HNSW_EF_CONSTRUCTION,
        "build_s": build_s,
        "median_links": float(np.median(links)),
        "share_one_link": float(np.mean(links <= 1)),
        "settings": settings,
    }


def child_ann(scale: float = 1.0) -> dict[str, Any]:
    """``measure`` on the synthetic shape at ``scale``."""
    return {"scale": scale, **measure_ann(scaling.synthetic_matrix(scale))}


def measure_ann(matrix: Any, listeners: int = LISTENERS) -> dict[str, Any]:
    """Train on ``matrix`` with ``listeners`` listeners' artists held out, then compare the
    index with exact scoring on their fold-in vectors (what a request computes)."""
    import faiss
    from threadpoolctl import threadpool_limits

    from musicrec.engine.metrics import ndcg_at_k
    from musicrec.engine.ranking import top_n

    rng = np.random.default_rng(22)
    train, chosen, held = held_out_split(matrix, rng, listeners)
    started = time.perf_counter()
    model = scaling.train_model(train, ITERATIONS)
    training_s = time.perf_counter() - started

    csr = train.matrix
    rated = [csr.indices[csr.indptr[u] : csr.indptr[u + 1]].astype(np.int64) for u in chosen]
    vectors = np.array(
        [
            model.new_user_fold_in(columns, csr.data[csr.indptr[u] : csr.indptr[u + 1]]).vector
            for u, columns in zip(chosen, rated, strict=True)
        ],
        dtype=np.float32,
    )
    items = np.ascontiguousarray(model.item_factors, dtype=np.float32)
    truth = exact_top(items, vectors, rated)
    wanted = [set(h.tolist()) for h in held]
    exact_ndcg = np.array(
        [ndcg_at_k(t.tolist(), w, 10) for t, w in zip(truth, wanted, strict=True)]
    )

    # Halves at random: one chooses nprobe, the other reports.
    order = rng.permutation(len(chosen))
    halves = {"choose": order[: len(order) // 2], "report": order[len(order) // 2 :]}
    timed = halves["report"][:TIMED_QUERIES]
    inputs = [(vectors[i], rated[i]) for i in timed]

    started = time.perf_counter()
    index = InnerProductIndex(items)  # FAISS's own threads (2 cores)
    build_s = time.perf_counter() - started
    faiss.omp_set_num_threads(1)  # a request is one thread
    # Exact scoring and every nprobe timed in turn, so that load falls on all of them alike.
    contenders: dict[str, Any] = {"exact": lambda v, b: top_n(items @ v, 10, b)}
    for probes in PROBES:
        contenders[str(probes)] = lambda v, b, p=probes: index.top(v, 10, b, p)
    with threadpool_limits(1, "blas"):
        timings = scaling.quietest_each(contenders, inputs, TIMING_REPETITIONS)

    settings = []
    for probes in PROBES:
        found = [index.top(v, 10, b, probes) for v, b in zip(vectors, rated, strict=True)]
        hits = recall(found, truth)
        ndcg = np.array([ndcg_at_k(f.tolist(), w, 10) for f, w in zip(found, wanted, strict=True)])
        setting: dict[str, Any] = {"probes": probes, "query": timings[str(probes)]}
        for name, rows in halves.items():
            setting[name] = {
                "recall_at_10": float(hits[rows].mean()),
                "ndcg_at_10": float(ndcg[rows].mean()),
                "exact_ndcg_at_10": float(exact_ndcg[rows].mean()),
            }
        settings.append(setting)

    faiss.omp_set_num_threads(2)
    hnsw = hnsw_inner_product(items, vectors, rated, truth)
    norms = np.linalg.norm(items, axis=1)
    return {
        "artists": int(items.shape[0]),
        "users": len(model.users),
        "ratings": int(csr.nnz),
        "listeners": len(chosen),
        "held_out": HELD_OUT,
        "training_s": training_s,
        "iterations": ITERATIONS,
        "vector_norms": {
            "p1": float(np.percentile(norms, 1)),
            "median": float(np.median(norms)),
            "max": float(norms.max()),
        },
        "exact_query": timings["exact"],
        "index": {
            "kind": "IndexIVFFlat, inner product",
            "lists": index.lists,
            "build_s": build_s,
            "mb": index.nbytes() / 2**20,
        },
        "item_vectors_mb": items.nbytes / 2**20,
        "faiss": faiss.__version__,
        "recall_target": RECALL_TARGET,
        "timed_queries": len(inputs),
        "settings": settings,
        "hnsw": hnsw,
        "peak_rss_mb": measure.own_peak_rss_mb(),
    }
