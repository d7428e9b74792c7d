"""Per-user ranking metrics averaged over the users of an evaluation split."""

from __future__ import annotations

import numpy as np

from musicrec.engine import metrics
from musicrec.engine.split import dense_index

K = 10


def relevant_sets(user_ids: np.ndarray, item_ids: np.ndarray) -> tuple[np.ndarray, list[set[int]]]:
    """(sorted distinct users, each one's set of item ids) of held-out rows."""
    users, index = dense_index(user_ids)
    groups: list[set[int]] = [set() for _ in users]
    for u, i in zip(index.tolist(), np.asarray(item_ids).tolist(), strict=True):
        groups[u].add(i)
    return users, groups


def ranking_metrics(
    recommended: np.ndarray, relevant: list[set[int]], catalogue_size: int, k: int = K
) -> dict[str, float]:
    """Mean per-user ranking metrics at k; ``recommended`` rows are artist ids (-1 = none)."""
    lists = [[int(i) for i in row if i >= 0] for row in recommended]
    per_user = {
        f"ndcg@{k}": metrics.ndcg_at_k,
        f"precision@{k}": metrics.precision_at_k,
        f"recall@{k}": metrics.recall_at_k,
        f"map@{k}": metrics.average_precision_at_k,
        f"hit_rate@{k}": metrics.hit_rate_at_k,
    }
    out = {
        name: float(np.mean([f(items, rel, k) for items, rel in zip(lists, relevant, strict=True)]))
        for name, f in per_user.items()
    }
    out[f"coverage@{k}"] = metrics.coverage_at_k(lists, catalogue_size, k)
    return {name: round(value, 4) for name, value in out.items()}
