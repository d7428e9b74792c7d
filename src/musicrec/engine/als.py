"""One small factory for the two ALS formulations: default parameters, training, rebuilding.

The defaults were chosen by the offline evaluation (docs/evaluation.md), not by habit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from musicrec.engine.data import IdMap, RatingMatrix
from musicrec.engine.explicit_als import ExplicitALSModel, train_explicit
from musicrec.engine.implicit_als import WEIGHTINGS, Bm25Stats, ImplicitALSModel, train_implicit
from musicrec.engine.model import FactorModel

KINDS = ("implicit", "explicit")
DEFAULT_KIND = "implicit"

DEFAULTS: dict[str, dict[str, Any]] = {
    "implicit": {
        "kind": "implicit",
        "factors": 48,
        "iterations": 15,
        "regularization": 1.0,
        "alpha": 0.2,
        "confidence": "bm25",
        "bm25_k1": 100.0,
        "bm25_b": 0.8,
        "seed": 42,
        "threads": 0,  # implicit's worker threads; 0 = one per core
    },
    "explicit": {
        "kind": "explicit",
        "factors": 16,
        "iterations": 15,
        "regularization": 2.0,
        "user_bias_regularization": 10.0,
        "item_bias_regularization": 25.0,
        "rating_calibration": True,  # the rating-scale layer of explicit_als
        "seed": 42,
    },
}


def make_params(kind: str = DEFAULT_KIND, **overrides: Any) -> dict[str, Any]:
    """The default parameters of ``kind`` with ``overrides`` applied (None values ignored)."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; use one of {KINDS}")
    params = dict(DEFAULTS[kind])
    unknown = set(overrides) - set(params)
    if unknown:
        raise ValueError(f"unknown parameter(s) for {kind} ALS: {', '.join(sorted(unknown))}")
    params.update({key: value for key, value in overrides.items() if value is not None})
    if int(params["factors"]) < 1 or int(params["iterations"]) < 1:
        raise ValueError("factors and iterations must be at least 1")
    if float(params["regularization"]) < 0:
        raise ValueError("regularization must be >= 0")
    if kind == "implicit" and params["confidence"] not in WEIGHTINGS:
        raise ValueError(f"confidence must be one of {WEIGHTINGS}")
    return params


def train(ratings: RatingMatrix, params: dict[str, Any] | None = None) -> FactorModel:
    """Train the formulation named by ``params["kind"]`` (defaults: ``make_params()``)."""
    params = make_params() if params is None else params
    if ratings.matrix.nnz == 0:
        raise ValueError("no ratings to train on")
    if params["kind"] == "implicit":
        return train_implicit(ratings, params)
    if params["kind"] == "explicit":
        return train_explicit(ratings, params)
    raise ValueError(f"unknown model kind {params['kind']!r}")


def train_arrays(
    user_ids: np.ndarray,
    artist_ids: np.ndarray,
    ratings: np.ndarray,
    params: dict[str, Any] | None = None,
    *,
    catalogue: np.ndarray | None = None,
) -> FactorModel:
    """Train from parallel arrays of database ids and 1..10 ratings."""
    return train(
        RatingMatrix.from_arrays(user_ids, artist_ids, ratings, catalogue=catalogue), params
    )


def model_from_arrays(arrays: dict[str, np.ndarray], params: dict[str, Any]) -> FactorModel:
    """Rebuild a model from :meth:`FactorModel.arrays` output and its parameters."""
    users, items = IdMap(arrays["user_ids"]), IdMap(arrays["item_ids"])
    train_matrix = sp.csr_matrix(
        (arrays["train_data"], arrays["train_indices"], arrays["train_indptr"]),
        shape=(len(users), len(items)),
    )
    common = {
        "users": users,
        "items": items,
        "user_factors": arrays["user_factors"],
        "item_factors": arrays["item_factors"],
        "train": train_matrix,
        "params": dict(params),
        "global_mean": float(arrays["global_mean"]),
    }
    if params["kind"] == "explicit":
        return ExplicitALSModel(
            **common,
            user_bias=arrays["user_bias"],
            item_bias=arrays["item_bias"],
            kind="explicit-als",
        )
    model = ImplicitALSModel(**common, kind="implicit-als")
    if "bm25_idf" in arrays:
        model.bm25 = Bm25Stats(
            arrays["bm25_idf"],
            float(arrays["bm25_average_length"]),
            float(params["bm25_k1"]),
            float(params["bm25_b"]),
        )
    return model
