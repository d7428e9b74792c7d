"""Every use of musicrec by the benchmarks, in one place.

The benchmarks touch the project only through these functions, so a change of the engine's
or the database layer's names is fixed here once. Nothing else in ``benchmarks/`` imports
``musicrec``; the command line (``python -m musicrec ...``) is used for whole processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from musicrec.datasets import load_lastfm
from musicrec.db import migrate
from musicrec.db.models import Artist, Rating, User
from musicrec.db.session import make_engine, normalise_url, transaction
from musicrec.engine import spark_als
from musicrec.engine.als import settings_for, train
from musicrec.engine.artifacts import ModelStore
from musicrec.engine.data import RatingMatrix
from musicrec.engine.implicit_als import ImplicitALSModel
from musicrec.engine.mapping import DEFAULT_MAPPING, MAPPINGS, listens_to_ratings
from musicrec.engine.metrics_batch import K, ranking_metrics, relevant_sets
from musicrec.engine.model import FactorModel
from musicrec.engine.ranking import top_n
from musicrec.engine.settings import ImplicitSettings
from musicrec.engine.split import dense_index, holdout_split
from musicrec.services.importing import ImportSummary
from musicrec.services.importing import import_listening_data as _import_listening_data

__all__ = [
    "Artist",
    "FactorModel",
    "Rating",
    "User",
    "import_listening_data",
    "load_lastfm",
    "make_engine",
    "migrate",
    "normalise_url",
]


def ratings_from_listens(user_index: np.ndarray, listens: np.ndarray) -> np.ndarray:
    """The import's mapping of play counts to 1..10 ratings; ``user_index`` is dense."""
    return listens_to_ratings(user_index, listens).astype(np.float64)


def shared_arrays(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(user ids, artist ids, ratings, catalogue) of the shared Last.fm data as imported."""
    data = load_lastfm(folder)
    ratings = ratings_from_listens(np.unique(data.user_ids, return_inverse=True)[1], data.listens)
    return data.user_ids, data.item_ids, ratings, data.artist_ids


def rating_matrix(
    user_ids: np.ndarray,
    item_ids: np.ndarray,
    ratings: np.ndarray,
    catalogue: np.ndarray | None = None,
) -> RatingMatrix:
    return RatingMatrix.from_arrays(user_ids, item_ids, ratings, catalogue=catalogue)


def import_listening_data(engine: Any, data: Any, *, location: str) -> ImportSummary:
    """The import as ``musicrec import-lastfm`` runs it: one committed transaction."""
    with transaction(engine) as session:
        return _import_listening_data(session, data, location=location)


def params(**overrides: Any) -> ImplicitSettings:
    """The default (implicit) model's settings with ``overrides``."""
    settings = settings_for("implicit", **overrides)
    assert isinstance(settings, ImplicitSettings)
    return settings


@contextmanager
def _solver(use_cg: bool) -> Iterator[None]:
    """Within: the implicit library's ALS solves exactly (``use_cg=False``) or by conjugate
    gradient (its default, what the engine trains with). The engine builds the library's
    estimator itself without naming the solver; the class it builds is swapped for one with
    the other default, so everything else is the engine's own training."""
    import implicit.cpu.als as library

    original = library.AlternatingLeastSquares
    if use_cg:
        yield
        return

    class ExactALS(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, use_cg=False, **kwargs)

    library.AlternatingLeastSquares = ExactALS  # type: ignore[misc]
    try:
        yield
    finally:
        library.AlternatingLeastSquares = original  # type: ignore[misc]


def train_model(
    matrix: RatingMatrix, settings: ImplicitSettings, *, use_cg: bool = True
) -> FactorModel:
    """Our whole training: confidence weighting, then implicit ALS (``use_cg=False``: the
    library's exact solver instead of its default conjugate gradient)."""
    with _solver(use_cg):
        return train(matrix, settings)


def spark_values(matrix: RatingMatrix, settings: ImplicitSettings) -> sp.coo_matrix:
    """What our Spark trainer (``engine.spark_als``) gives Spark as ratings: C - 1."""
    return spark_als.implicit_spark_ratings(matrix, settings)[0]


def spark_estimator(settings: ImplicitSettings, values: sp.coo_matrix, session: Any) -> Any:
    """Spark's ALS configured exactly as our Spark trainer configures it."""
    return spark_als.als_estimator(settings, values, session)


def fit_on_spark(matrix: RatingMatrix, settings: ImplicitSettings, session: Any) -> FactorModel:
    """Our Spark trainer's whole training (``engine.spark_als.fit_on_spark``) in a session."""
    return spark_als.fit_on_spark(matrix, settings, session=session).model


@dataclass(frozen=True)
class Holdout:
    """The shared data split as ``musicrec evaluate``'s holdout protocol splits it: the
    training part as ratings, and each test user's held-out artists."""

    train: RatingMatrix
    users: np.ndarray
    relevant: list[set[int]]
    catalogue_size: int


def shared_holdout(folder: Path, seed: int) -> Holdout:
    """20% of each user's artists held out (users with >= 5), the rest mapped to ratings."""
    data = load_lastfm(folder)
    test = holdout_split(data.user_ids, seed=seed)
    _, user_index = dense_index(data.user_ids[~test])
    ratings = MAPPINGS[DEFAULT_MAPPING](user_index, data.listens[~test])
    train_ratings = RatingMatrix.from_arrays(
        data.user_ids[~test], data.item_ids[~test], ratings, catalogue=data.artist_ids
    )
    users, relevant = relevant_sets(data.user_ids[test], data.item_ids[test])
    return Holdout(train_ratings, users, relevant, int(data.artist_ids.size))


def holdout_ndcg(model: FactorModel, holdout: Holdout) -> float:
    """NDCG@10 of a model trained on ``holdout.train`` over the held-out artists."""
    ranked = model.recommend_batch(holdout.users, K)
    return ranking_metrics(ranked, holdout.relevant, holdout.catalogue_size)[f"ndcg@{K}"]


def model_from_factors(
    matrix: RatingMatrix, settings: ImplicitSettings, users: np.ndarray, items: np.ndarray
) -> FactorModel:
    """A model of factors trained elsewhere (Spark's), for ``holdout_ndcg``."""
    return ImplicitALSModel(
        users=matrix.users,
        items=matrix.items,
        user_factors=users,
        item_factors=items,
        train=matrix.matrix,
        settings=settings,
        kind="implicit-als",
    )


def matrix_shape(matrix: RatingMatrix) -> tuple[int, int, int]:
    """(users, artists, ratings) of a rating matrix."""
    users, items = matrix.shape
    return users, items, int(matrix.matrix.nnz)


def users_with_ratings(matrix: RatingMatrix, at_least: int) -> np.ndarray:
    """Dense positions of the users with at least ``at_least`` ratings."""
    return np.flatnonzero(np.diff(matrix.matrix.indptr) >= at_least)


def rated_by(matrix: RatingMatrix, position: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(user id, artist ids, ratings) of the user at a dense position."""
    start, end = matrix.matrix.indptr[position], matrix.matrix.indptr[position + 1]
    artists = matrix.items.ids[matrix.matrix.indices[start:end]]
    return int(matrix.users.ids[position]), artists, matrix.matrix.data[start:end].astype(float)


def factors(model: FactorModel) -> tuple[np.ndarray, np.ndarray]:
    """(user factors, item factors) as float32, the dtype the implicit library serves with."""
    return model.user_factors.astype(np.float32), model.item_factors.astype(np.float32)


def confidence_row(
    model: FactorModel, artist_ids: np.ndarray, ratings: np.ndarray
) -> sp.csr_matrix:
    """A new user's row of confidences, weighted as the model does in its fold-in."""
    columns = model.items.indices(artist_ids)
    values = model.confidence(columns, ratings)  # type: ignore[attr-defined]
    rows = np.zeros(columns.size, dtype=np.int64)
    return sp.csr_matrix((values, (rows, columns)), shape=(1, len(model.items)))


def known_user_row(model: FactorModel, user_id: int) -> tuple[int, sp.csr_matrix]:
    """(dense index, training row of confidences) of a user in the model."""
    index = model.users.index(user_id)
    row = model.train[index]
    confidence = model.confidence(row.indices, row.data.astype(np.float64))  # type: ignore[attr-defined]
    return index, sp.csr_matrix((confidence, row.indices, row.indptr), shape=row.shape)


def recommend_new_user(model: FactorModel, artist_ids: np.ndarray, ratings: np.ndarray) -> list:
    """What a request does: fold in from 10 ratings, top 10 with three reasons each."""
    return model.recommend_for_ratings(artist_ids, ratings, n=10, explain=3)


def fold_in_vector(model: FactorModel, artist_ids: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    """The user vector a new user's request folds in from their ratings."""
    return model.fold_in(artist_ids, ratings).vector


def choose_top(scores: np.ndarray, n: int, banned: np.ndarray) -> np.ndarray:
    """The engine's selection of the n best scores (``ranking.top_n``)."""
    return top_n(scores, n, banned)


def recommend_known_user(model: FactorModel, user_id: int) -> list:
    """Top 10 for a user in the model, with three reasons each."""
    return model.recommend(user_id, n=10, explain=3)


def recommend_from_newest_model(model_dir: Path, artist_ids: list[int], ratings: list[int]) -> list:
    """Load the newest published model version and recommend for one user's ratings."""
    loaded = ModelStore(model_dir).current()
    if loaded is None:
        raise FileNotFoundError(f"no model version in {model_dir}")
    return loaded.model.recommend_for_ratings(artist_ids, ratings, n=10, explain=3)
