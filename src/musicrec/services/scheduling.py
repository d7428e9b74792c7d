"""When to retrain: after enough new ratings, or after a while; never two trainings at once.

The worker checks once a minute (:mod:`musicrec.services.queue`). Ratings count as new when
created or changed after the newest published version was. A period alone never retrains on
unchanged ratings: the same data gives the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import activity, job_rows
from musicrec.db.types import utcnow
from musicrec.engine.artifacts import ModelStore
from musicrec.services.errors import Conflict
from musicrec.services.jobs import JobSender, JobView, queue_training


@dataclass(frozen=True)
class RetrainPolicy:
    """``after_ratings`` new ratings (0: never by count) or ``after`` since the newest version
    (zero: never by time)."""

    after_ratings: int
    after: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrainPolicy:
        return cls(settings.retrain_after_ratings, settings.retrain_after)


def newest_version_time(model_dir: Path) -> datetime | None:
    store = ModelStore(model_dir)
    names = store.versions()
    if not names:
        return None
    return datetime.fromisoformat(store.meta(names[0])["created_at"])


def retrain_reason(
    session: Session, model_dir: Path, policy: RetrainPolicy, now: datetime | None = None
) -> str | None:
    """Why a training is due now, or None when it is not."""
    now = now or utcnow()
    published = newest_version_time(model_dir)
    changed = activity.ratings_changed_since(session, published)
    if changed == 0:
        return None
    if published is None:
        return "no model yet"
    if policy.after_ratings and changed >= policy.after_ratings:
        return f"{changed} new ratings"
    if policy.after > timedelta(0) and now - published >= policy.after:
        return "schedule"
    return None


def maybe_queue_training(
    session: Session,
    sender: JobSender,
    model_dir: Path,
    policy: RetrainPolicy,
    now: datetime | None = None,
) -> JobView | None:
    """Queue a training when one is due and none is queued or running; the queued job, if any."""
    if job_rows.active_job(session, "train") is not None:
        return None
    reason = retrain_reason(session, model_dir, policy, now)
    if reason is None:
        return None
    try:
        return queue_training(session, sender, reason=reason)
    except Conflict:  # queued by someone else since we looked
        return None
