"""What the operator's page shows: the model versions, and the app's activity over recent days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from musicrec.db import activity
from musicrec.db.models import RATING_MAX, RATING_MIN
from musicrec.db.types import utcnow
from musicrec.engine.artifacts import ModelStore

ACTIVITY_DAYS = 30
# Which library trained each kind of model, for versions whose metadata does not say.
ENGINES = {"implicit-als": "implicit (CPU)", "explicit-als": "NumPy ALS (musicrec)"}


@dataclass(frozen=True)
class VersionView:
    """One published model version, from its metadata."""

    name: str
    kind: str
    engine: str
    created_at: datetime
    settings: dict[str, Any]
    metrics: dict[str, Any]
    users: int | None
    artists: int | None
    serving: bool

    @property
    def loss(self) -> list[float]:
        """The training loss after each sweep (empty for versions that did not record it)."""
        values = self.metrics.get("loss") or []
        return [float(value) for value in values if value is not None]

    @property
    def scalar_metrics(self) -> dict[str, Any]:
        return {k: v for k, v in self.metrics.items() if not isinstance(v, list | dict)}


def model_versions(model_dir: Path, serving: str | None) -> list[VersionView]:
    """Every complete version, newest first; ``serving`` marks the one this process serves."""
    store = ModelStore(model_dir)
    views = []
    for name in store.versions():
        try:
            meta = store.meta(name)
        except (FileNotFoundError, ValueError):  # pruned or unreadable meanwhile
            continue
        views.append(
            VersionView(
                name=name,
                kind=str(meta.get("kind", "")),
                engine=str(meta.get("engine") or ENGINES.get(meta.get("kind", ""), "unknown")),
                created_at=datetime.fromisoformat(meta["created_at"]),
                settings=dict(meta.get("settings") or {}),
                metrics=dict(meta.get("metrics") or {}),
                users=meta.get("n_users"),
                artists=meta.get("n_items"),
                serving=name == serving,
            )
        )
    return views


@dataclass(frozen=True)
class Activity:
    """Counts for the plots: ratings by value, per-day series (oldest first), coverage."""

    rating_histogram: list[tuple[int, int]]
    ratings_per_day: list[tuple[date, int]]
    recommendations_per_day: list[tuple[date, int]]
    recommended_artists: int
    catalogue_artists: int
    days: int = ACTIVITY_DAYS

    @property
    def coverage(self) -> float:
        """Share of the catalogue recommended to someone at least once."""
        return self.recommended_artists / self.catalogue_artists if self.catalogue_artists else 0.0


def _daily(counts: dict[date, int], first: date, days: int) -> list[tuple[date, int]]:
    return [(day, counts.get(day, 0)) for day in (first + timedelta(n) for n in range(days))]


def recent_activity(
    session: Session, now: datetime | None = None, days: int = ACTIVITY_DAYS
) -> Activity:
    now = now or utcnow()
    first = (now - timedelta(days=days - 1)).date()
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    histogram = activity.rating_histogram(session)
    return Activity(
        rating_histogram=[(v, histogram.get(v, 0)) for v in range(RATING_MIN, RATING_MAX + 1)],
        ratings_per_day=_daily(activity.ratings_per_day(session, since), first, days),
        recommendations_per_day=_daily(
            activity.recommendations_per_day(session, since), first, days
        ),
        recommended_artists=activity.recommended_artist_count(session),
        catalogue_artists=activity.artist_count(session),
        days=days,
    )
