"""Offline check of the similar-artist lists: do listeners of an artist also listen to the
artists listed as similar to it?

Users are split once (seeded) into three groups: 80% train the model, 10% choose the
shrinkage setting, 10% report. Nobody in the reporting group shapes the model or the choice.
For a held-out user u and an artist a they listen to, the list L(a) of the 10 artists most
similar to a scores

    co-listening precision@10 = |L(a) & artists(u)| / 10

averaged over every such (user, artist) pair of the group, and over the artists among the 100
with most training listeners alone ("well-known"). Precision rewards popular neighbours too,
so two more figures say what the lists are made of: the median training listeners of the
listed artists, and the share of listed artists that share fewer than ``THIN_SUPPORT``
listeners with the artist they are listed for (over the well-known artists, where thin lists
were the complaint). The list of the most popular artists is reported as a baseline for what
popularity alone scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from musicrec.datasets import ListeningData
from musicrec.engine.als import settings_for, train
from musicrec.engine.data import RatingMatrix
from musicrec.engine.mapping import listens_to_ratings
from musicrec.engine.model import FactorModel
from musicrec.engine.neighbours import (
    DEFAULT_NEIGHBOURHOOD,
    PLAIN_COSINE,
    Neighbourhood,
    most_similar,
)
from musicrec.engine.ranking import top_n
from musicrec.engine.split import dense_index, user_order

K = 10
WELL_KNOWN = 100
THIN_SUPPORT = 5
TOLERANCE = 0.02  # choose_setting: precision this close to the best counts as as good
SPLIT_SEED = 0
TRAINING_SEEDS = (11, 12, 13)
GRID = tuple(
    Neighbourhood(shrinkage=s, min_shared=m)
    for s in (0.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0)
    for m in (1, 2, 3, 5)
)


@dataclass(frozen=True)
class ListQuality:
    precision: float  # co-listening precision@10 over all (user, artist) pairs
    precision_well_known: float  # the same over the WELL_KNOWN most-listened artists
    median_listeners: float  # median training listeners of the listed artists
    thin_share: float  # of well-known artists' listed ones, those sharing < THIN_SUPPORT


@dataclass(frozen=True)
class NeighbourGroups:
    train: np.ndarray  # row masks over the data
    choose: np.ndarray
    report: np.ndarray


def split_users(user_ids: np.ndarray, seed: int = SPLIT_SEED) -> NeighbourGroups:
    """80% / 10% / 10% of the users (whole users, seeded) as masks over the rows: cut from
    the same seeded order of the users as ``split.user_groups``."""
    users, position = user_order(user_ids, seed)
    _, user_index = dense_index(user_ids)
    group = (position * 10) // users.size  # 0..9, nearly equal parts
    row_group = group[user_index]
    return NeighbourGroups(row_group < 8, row_group == 8, row_group == 9)


class Lists:
    """Similar-artist lists of one trained model, under any setting."""

    def __init__(self, model: FactorModel) -> None:  # type: ignore[type-arg]
        self.model = model
        binary = model.train.copy()
        binary.data[:] = 1
        self.listeners = np.asarray(binary.sum(axis=0)).ravel()
        self.well_known = set(
            top_n(self.listeners.astype(np.float64), WELL_KNOWN, np.empty(0, dtype=np.int64))
        )

    def similar(
        self, i: int, setting: Neighbourhood | None, parts: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(the K listed item indices, the listeners each shares with i); None: popularity."""
        cosine, shared = parts
        if setting is None:
            best = top_n(self.listeners.astype(np.float64), K, np.array([i]))
        else:
            best = most_similar(cosine, shared, i, K, setting)
        return best, shared[best]


@dataclass
class _Tally:
    hits: int = 0
    pairs: int = 0
    hits_known: int = 0
    pairs_known: int = 0
    thin: int = 0
    listed: int = 0
    listed_listeners: list[np.ndarray] = field(default_factory=list)

    def quality(self) -> ListQuality:
        every = np.concatenate(self.listed_listeners) if self.listed_listeners else np.zeros(1)
        return ListQuality(
            precision=self.hits / (K * self.pairs) if self.pairs else 0.0,
            precision_well_known=(
                self.hits_known / (K * self.pairs_known) if self.pairs_known else 0.0
            ),
            median_listeners=float(np.median(every)),
            thin_share=self.thin / self.listed if self.listed else 0.0,
        )


def held_out_matrix(data: ListeningData, rows: np.ndarray, model: FactorModel) -> sp.csc_matrix:  # type: ignore[type-arg]
    """Who in a held-out group listens to what, as users x model items (binary, CSC)."""
    items = model.items.indices(data.item_ids[rows])
    known = items >= 0
    _, users = dense_index(data.user_ids[rows][known])
    ones = np.ones(int(known.sum()), dtype=np.float32)
    shape = (int(users.max()) + 1 if users.size else 0, len(model.items))
    return sp.csc_matrix((ones, (users, items[known])), shape=shape)


def score(
    lists: Lists, held_out: sp.csc_matrix, settings: Sequence[Neighbourhood | None]
) -> list[ListQuality]:
    """The figures of each setting (None: the popularity list) on one held-out group."""
    by_user = held_out.tocsr()
    tallies = [_Tally() for _ in settings]
    for i in np.flatnonzero(np.diff(held_out.indptr)):
        if lists.listeners[i] == 0:
            continue
        parts = lists.model.similarity_parts(int(i))
        users = held_out.indices[held_out.indptr[i] : held_out.indptr[i + 1]]
        # How many of i's held-out listeners listen to each item.
        also = np.bincount(by_user[users].indices, minlength=by_user.shape[1])
        for setting, tally in zip(settings, tallies, strict=True):
            best, shared = lists.similar(int(i), setting, parts)
            found = int(also[best].sum())
            tally.hits, tally.pairs = tally.hits + found, tally.pairs + users.size
            tally.listed_listeners.append(lists.listeners[best])
            if i in lists.well_known:
                tally.hits_known += found
                tally.pairs_known += users.size
                tally.thin += int((shared < THIN_SUPPORT).sum())
                tally.listed += best.size
    return [tally.quality() for tally in tallies]


def choose_setting(precision: dict[Neighbourhood, float]) -> Neighbourhood:
    """The least shrinkage (then the least minimum) within ``TOLERANCE`` of the best precision.

    Precision keeps creeping up as the shrinkage grows towards ranking by cosine x co-listeners,
    each step listing more popular artists for less gain; past the tolerance it is not worth it.
    """
    best = max(precision.values())
    good = [s for s, p in precision.items() if p >= best * (1 - TOLERANCE)]
    return min(good, key=lambda s: (s.shrinkage, s.min_shared))


def _mean(qualities: Sequence[ListQuality]) -> ListQuality:
    fields = asdict(qualities[0]).keys()
    return ListQuality(
        **{name: float(np.mean([getattr(q, name) for q in qualities])) for name in fields}
    )


def _trained(data: ListeningData, rows: np.ndarray, seed: int) -> FactorModel:  # type: ignore[type-arg]
    _, user_index = dense_index(data.user_ids[rows])
    ratings = listens_to_ratings(user_index, data.listens[rows])
    matrix = RatingMatrix.from_arrays(
        data.user_ids[rows], data.item_ids[rows], ratings, catalogue=data.artist_ids
    )
    model = train(matrix, replace(settings_for(), seed=seed))
    assert isinstance(model, FactorModel)
    return model


def evaluate_similar(
    data: ListeningData, training_seeds: Sequence[int] = TRAINING_SEEDS
) -> dict[str, object]:
    """Choose the setting on the choosing group, then report the plain cosine, the chosen
    setting, the shipped default and popularity on the reporting group (means over seeds)."""
    groups = split_users(data.user_ids)
    choosing: dict[Neighbourhood, list[ListQuality]] = {s: [] for s in GRID}
    reporting: dict[str, list[ListQuality]] = {}
    runs = []
    for seed in training_seeds:
        model = _trained(data, groups.train, seed)
        lists = Lists(model)
        choose = held_out_matrix(data, groups.choose, model)
        for setting, quality in zip(GRID, score(lists, choose, GRID), strict=True):
            choosing[setting].append(quality)
        runs.append((lists, held_out_matrix(data, groups.report, model)))
    chosen = choose_setting(
        {s: float(np.mean([q.precision for q in qs])) for s, qs in choosing.items()}
    )
    compared: dict[str, Neighbourhood | None] = {"cosine": PLAIN_COSINE, "chosen": chosen}
    if chosen != DEFAULT_NEIGHBOURHOOD:
        compared["default"] = DEFAULT_NEIGHBOURHOOD
    compared["most-popular"] = None
    for lists, report in runs:
        qualities = score(lists, report, list(compared.values()))
        for name, quality in zip(compared, qualities, strict=True):
            reporting.setdefault(name, []).append(quality)
    return {
        "chosen": asdict(chosen),
        "default": asdict(DEFAULT_NEIGHBOURHOOD),
        "choosing": [
            {**asdict(s), "precision": round(float(np.mean([q.precision for q in qs])), 4)}
            for s, qs in choosing.items()
        ],
        "report": {name: asdict(_mean(qs)) for name, qs in reporting.items()},
    }


def format_similar_report(result: dict[str, object]) -> str:
    """The reporting group's figures as a Markdown table."""
    report = result["report"]
    assert isinstance(report, dict)
    lines = [
        f"chosen on the choosing group: {result['chosen']}; shipped default: {result['default']}",
        "",
        "| list | precision@10 | well-known artists | median listeners | thin support |",
        "|---|---|---|---|---|",
    ]
    for name, q in report.items():
        lines.append(
            f"| {name} | {q['precision']:.4f} | {q['precision_well_known']:.4f} | "
            f"{q['median_listeners']:.0f} | {q['thin_share']:.1%} |"
        )
    return "\n".join(lines)
