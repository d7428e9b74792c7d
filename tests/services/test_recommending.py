"""The recommendation service: popularity without a model, the newest model with one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from musicrec.db import artists, users
from musicrec.db import ratings as rating_rows
from musicrec.services.errors import NoRatings
from musicrec.services.popular_artists import PopularArtists
from musicrec.services.recommending import POPULARITY_VERSION, RecommendationService
from tests.factories import train_in_transaction

BLOCK_A = ["Air", "Björk", "Massive Attack", "Portishead", "Sigur Rós", "Boards of Canada"]
BLOCK_B = ["Metallica", "Iron Maiden", "AC/DC", "Slayer", "Megadeth", "Motörhead"]


def _user(session: Session, name: str) -> int:
    return users.add_user(session, name, f"{name}@example.org", "hash").id


def _artists(session: Session, names: list[str]) -> list[int]:
    return [artists.add_artist(session, name, None).id for name in names]


@pytest.fixture
def service(tmp_path: Path) -> RecommendationService:
    return RecommendationService(tmp_path / "models", PopularArtists())


@pytest.fixture
def popular(session: Session) -> list[int]:
    """Five artists rated by 5, 4, 3, 2 and 1 listeners, most rated first."""
    ids = _artists(session, ["Muse", "Keane", "Coldplay", "Travis", "Embrace"])
    listeners = [_user(session, f"listener{i}") for i in range(5)]
    for rank, artist in enumerate(ids):
        for listener in listeners[: 5 - rank]:
            rating_rows.set_rating(session, listener, artist, 8)
    return ids


@pytest.fixture
def blocks(session: Session, db_engine: Engine, tmp_path: Path, rng: np.random.Generator):
    """Two groups of artists no listener mixes, and a model trained on them (committed)."""
    block_a, block_b = _artists(session, BLOCK_A), _artists(session, BLOCK_B)
    for i in range(24):
        listener = _user(session, f"listener{i}")
        own = block_a if i % 2 else block_b
        for artist in rng.choice(own, size=5, replace=False):
            rating_rows.set_rating(session, listener, int(artist), int(rng.integers(7, 11)))
    session.commit()
    report = train_in_transaction(db_engine, tmp_path / "models", factors=4, iterations=8)
    return block_a, block_b, report.version


def test_without_a_model_the_most_rated_unseen_artists_are_suggested(
    session: Session, service: RecommendationService, popular: list[int]
) -> None:
    muse, keane, coldplay, travis, embrace = popular
    ada = _user(session, "ada")
    rating_rows.set_rating(session, ada, keane, 6)

    first = service.recommend_new(session, ada, 2)
    second = service.recommend_new(session, ada, 2)
    third = service.recommend_new(session, ada, 2)

    assert service.current_version() is None
    assert first.model_version == second.model_version == POPULARITY_VERSION
    assert [(s.artist.id, s.score, s.because) for s in first.recommendations] == [
        (muse, 0.0, []),
        (coldplay, 0.0, []),
    ]
    assert [s.artist.id for s in second.recommendations] == [travis, embrace]
    assert (third.model_version, third.recommendations) == (POPULARITY_VERSION, [])


def test_popularity_picks_are_stored_in_the_history(
    session: Session, service: RecommendationService, popular: list[int]
) -> None:
    ada = _user(session, "ada")
    rating_rows.set_rating(session, ada, popular[-1], 8)  # without a rating: NoRatings
    first = service.recommend_new(session, ada, 1)
    second = service.recommend_new(session, ada, 1)
    rating_rows.set_rating(session, ada, popular[0], 3)

    history = service.history(session, ada)

    assert [(p.artist.id, p.model_version, p.rating) for p in history] == [
        (second.recommendations[0].artist.id, POPULARITY_VERSION, None),
        (first.recommendations[0].artist.id, POPULARITY_VERSION, 3),
    ]
    assert first.recommendations[0].artist.id == popular[0]


def test_a_user_with_no_ratings_gets_no_ratings_and_nothing_is_stored(
    session: Session, service: RecommendationService, popular: list[int]
) -> None:
    ada = _user(session, "ada")

    with pytest.raises(NoRatings):
        service.recommend_new(session, ada, 3)

    assert service.history(session, ada) == []


def test_a_model_recommends_from_the_users_own_group_with_reasons(
    session: Session, service: RecommendationService, blocks: tuple[list[int], list[int], str]
) -> None:
    block_a, _block_b, version = blocks
    ada = _user(session, "ada")
    rated = block_a[:2]
    for artist in rated:
        rating_rows.set_rating(session, ada, artist, 9)

    first = service.recommend_new(session, ada, 2)
    second = service.recommend_new(session, ada, 2)

    assert service.current_version() == version
    assert first.model_version == second.model_version == version
    firsts = {s.artist.id for s in first.recommendations}
    seconds = {s.artist.id for s in second.recommendations}
    assert len(firsts) == len(seconds) == 2
    assert firsts <= set(block_a[2:])
    assert seconds.isdisjoint(firsts | set(rated))
    for suggestion in first.recommendations + second.recommendations:
        assert suggestion.because and {a.id for a in suggestion.because} <= set(rated)
    scores = [s.score for s in first.recommendations]
    assert scores == sorted(scores, reverse=True)


def test_the_model_history_lists_newest_first_with_reasons_and_ratings(
    session: Session, service: RecommendationService, blocks: tuple[list[int], list[int], str]
) -> None:
    block_a, _block_b, version = blocks
    ada = _user(session, "ada")
    rating_rows.set_rating(session, ada, block_a[0], 9)
    first = service.recommend_new(session, ada, 1)
    second = service.recommend_new(session, ada, 2)
    liked = first.recommendations[0].artist.id
    rating_rows.set_rating(session, ada, liked, 10)

    history = service.history(session, ada)

    newest = [(s.artist.id, None) for s in second.recommendations]
    assert [(p.artist.id, p.rating) for p in history] == [*newest, (liked, 10)]
    assert {p.model_version for p in history} == {version}
    assert all([b.id for b in p.because] == [block_a[0]] for p in history)
    assert [(b.id, b.name) for b in history[-1].because] == [(block_a[0], BLOCK_A[0])]


def test_a_user_the_model_cannot_place_gets_popular_artists(
    session: Session, service: RecommendationService, blocks: tuple[list[int], list[int], str]
) -> None:
    (newcomer,) = _artists(session, ["Newcomer"])
    ada = _user(session, "ada")
    rating_rows.set_rating(session, ada, newcomer, 8)
    expected = PopularArtists().top_ids(session, 3, [newcomer])

    batch = service.recommend_new(session, ada, 3)

    assert batch.model_version == POPULARITY_VERSION
    assert [s.artist.id for s in batch.recommendations] == expected


def test_similar_artists_come_from_the_same_group(
    session: Session, service: RecommendationService, blocks: tuple[list[int], list[int], str]
) -> None:
    block_a, block_b, _version = blocks

    similar = service.similar(session, block_b[0], 3)

    assert len(similar) == 3
    assert {view.id for view in similar} <= set(block_b[1:])
    assert service.similar(session, block_a[-1] + 100, 3) == []


def test_similar_without_a_model_is_empty(
    session: Session, service: RecommendationService, popular: list[int]
) -> None:
    assert service.similar(session, popular[0], 3) == []
