"""Ranking and rating metrics as pure functions.

Ranking metrics take one user's recommended list (best first) and the set of items that user
actually has in the hidden part of the data; binary relevance throughout. The per-user values
are averaged by the caller over the users that have at least one relevant item.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence

import numpy as np


def _hits(recommended: Sequence[int], relevant: Collection[int], k: int) -> list[bool]:
    return [item in relevant for item in list(recommended)[:k]]


def precision_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Hits in the top k divided by k (a short list is not rewarded for being short)."""
    if k <= 0:
        raise ValueError("k must be positive")
    return sum(_hits(recommended, relevant, k)) / k


def recall_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Hits in the top k divided by the number of relevant items (0 when there are none)."""
    if not relevant:
        return 0.0
    return sum(_hits(recommended, relevant, k)) / len(relevant)


def ndcg_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """DCG / ideal DCG with binary gains: DCG = sum_i hit_i / log2(i + 2), i from 0."""
    if not relevant:
        return 0.0
    dcg = sum(
        1.0 / math.log2(i + 2) for i, hit in enumerate(_hits(recommended, relevant, k)) if hit
    )
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


def average_precision_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """AP@k = sum over hit positions i of precision@i, divided by min(k, |relevant|)."""
    if not relevant:
        return 0.0
    total, hits = 0.0, 0
    for i, hit in enumerate(_hits(recommended, relevant, k)):
        if hit:
            hits += 1
            total += hits / (i + 1)
    return total / min(k, len(relevant))


def hit_rate_at_k(recommended: Sequence[int], relevant: Collection[int], k: int) -> float:
    """1 when at least one of the top k is relevant, else 0."""
    return 1.0 if any(_hits(recommended, relevant, k)) else 0.0


def coverage_at_k(recommendations: Iterable[Sequence[int]], catalogue_size: int, k: int) -> float:
    """Share of the catalogue that appears in at least one user's top k."""
    if catalogue_size <= 0:
        raise ValueError("catalogue_size must be positive")
    shown: set[int] = set()
    for items in recommendations:
        shown.update(list(items)[:k])
    return len(shown) / catalogue_size


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Root mean squared error; nan for empty input."""
    predicted, actual = _pair(predicted, actual)
    return float(np.sqrt(np.mean((predicted - actual) ** 2))) if actual.size else math.nan


def mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute error; nan for empty input."""
    predicted, actual = _pair(predicted, actual)
    return float(np.mean(np.abs(predicted - actual))) if actual.size else math.nan


def _pair(predicted: np.ndarray, actual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    predicted = np.asarray(predicted, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if predicted.shape != actual.shape:
        raise ValueError(f"shapes differ: {predicted.shape} vs {actual.shape}")
    return predicted, actual
