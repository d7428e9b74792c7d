"""One small factory for the two ALS formulations: settings, training, rebuilding.

The settings classes and their defaults live in :mod:`musicrec.engine.settings`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from musicrec.engine.data import IdMap, RatingMatrix
from musicrec.engine.explicit_als import ExplicitALSModel, train_explicit
from musicrec.engine.implicit_als import Bm25Stats, ImplicitALSModel, train_implicit
from musicrec.engine.model import IterationCallback
from musicrec.engine.settings import (
    ExplicitSettings,
    ImplicitSettings,
    ModelSettings,
    field_names,
    settings_class,
)

DEFAULT_KIND = ImplicitSettings.kind


def settings_for(kind: str = DEFAULT_KIND, **overrides: Any) -> ModelSettings:
    """The default settings of ``kind`` with ``overrides`` applied (None values ignored)."""
    cls = settings_class(kind)
    unknown = set(overrides) - field_names(cls)
    if unknown:
        raise ValueError(f"unknown parameter(s) for {kind} ALS: {', '.join(sorted(unknown))}")
    return cls(**{name: value for name, value in overrides.items() if value is not None})


def train(
    ratings: RatingMatrix,
    settings: ModelSettings | None = None,
    on_iteration: IterationCallback | None = None,
) -> ImplicitALSModel | ExplicitALSModel:
    """Train the formulation ``settings`` belong to (default: ``settings_for()``);
    ``on_iteration(iteration, loss)`` is called after each sweep, loss on the training data."""
    settings = settings_for() if settings is None else settings
    if ratings.matrix.nnz == 0:
        raise ValueError("no ratings to train on")
    if isinstance(settings, ExplicitSettings):
        return train_explicit(ratings, settings, on_iteration)
    return train_implicit(ratings, settings, on_iteration)


def train_arrays(
    user_ids: np.ndarray,
    artist_ids: np.ndarray,
    ratings: np.ndarray,
    settings: ModelSettings | None = None,
    *,
    catalogue: np.ndarray | None = None,
    on_iteration: IterationCallback | None = None,
) -> ImplicitALSModel | ExplicitALSModel:
    """Train from parallel arrays of database ids and 1..10 ratings."""
    return train(
        RatingMatrix.from_arrays(user_ids, artist_ids, ratings, catalogue=catalogue),
        settings,
        on_iteration,
    )


def model_from_arrays(
    arrays: dict[str, np.ndarray], settings: ModelSettings
) -> ImplicitALSModel | ExplicitALSModel:
    """Rebuild a model from :meth:`FactorModel.arrays` output and its settings."""
    users, items = IdMap(arrays["user_ids"]), IdMap(arrays["item_ids"])
    train_matrix = sp.csr_matrix(
        (arrays["train_data"], arrays["train_indices"], arrays["train_indptr"]),
        shape=(len(users), len(items)),
    )
    common: dict[str, Any] = {
        "users": users,
        "items": items,
        "user_factors": arrays["user_factors"],
        "item_factors": arrays["item_factors"],
        "train": train_matrix,
        "settings": settings,
        "global_mean": float(arrays["global_mean"]),
    }
    if isinstance(settings, ExplicitSettings):
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
            settings.bm25_k1,
            settings.bm25_b,
        )
    return model
