"""When to retrain: after enough changed ratings, or after a while; never two trainings at once,
never on unchanged data, and never sooner than a floor after the last training.

The worker checks once a minute (:mod:`musicrec.services.queue`). What counts is changes to the
trainable ratings (``db.trainable``: a rating added, changed in value or deleted, an account
deleted with its ratings), counted by the database in the writing transaction, since the newest
published version read its data; re-importing the same file counts nothing. A training that is
due is still not queued when the trainable data's fingerprint equals the newest version's (a
rating changed and changed back), nor within ``min_gap`` of the last training queued for any
reason: whatever any user does, automatic trainings stay below one per ``min_gap``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import job_rows, queries, trainable
from musicrec.db.ratings import all_ratings
from musicrec.db.types import utcnow
from musicrec.engine.artifacts import ModelStore, ratings_fingerprint
from musicrec.services.errors import Conflict
from musicrec.services.jobs import JobSender, JobView, queue_training

# Counted changes are kept this long after the newest version read its data.
KEEP_CHANGES = timedelta(days=1)


@dataclass(frozen=True)
class RetrainPolicy:
    """``after_ratings`` changed ratings (0: never by count) or ``after`` since the newest
    version (zero: never by time); never sooner than ``min_gap`` after the last training."""

    after_ratings: int
    after: timedelta
    min_gap: timedelta = timedelta(0)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrainPolicy:
        return cls(settings.retrain_after_ratings, settings.retrain_after, settings.retrain_min_gap)


@dataclass(frozen=True)
class PublishedData:
    """What the newest version was trained on: when it was published, when its data was read
    (its training's clock starts just before the read), and the data's fingerprint.

    A change committed by a transaction that began before the read and ended after it is
    counted as older than the read (as ``updated_at`` was): it waits for the next change."""

    version: str
    created_at: datetime
    read_at: datetime
    fingerprint: str


def newest_published(model_dir: Path) -> PublishedData | None:
    store = ModelStore(model_dir)
    for name in store.versions():
        try:
            meta = store.meta(name)
        except (FileNotFoundError, ValueError):  # pruned or replaced meanwhile
            continue
        created = datetime.fromisoformat(meta["created_at"])
        seconds = float((meta.get("metrics") or {}).get("training_seconds") or 0.0)
        return PublishedData(
            version=name,
            created_at=created,
            read_at=created - timedelta(seconds=seconds),
            fingerprint=str(meta.get("fingerprint", "")),
        )
    return None


def newest_version_time(model_dir: Path) -> datetime | None:
    published = newest_published(model_dir)
    return published.created_at if published else None


# (version, newest counted change) last found to hold the same data as the version: checked
# again only once something changed, so an unchanged state costs one read, not one a minute.
_same_data_as: tuple[str, int] | None = None


def data_unchanged(session: Session, published: PublishedData) -> bool:
    """Whether the trainable ratings are exactly what ``published`` was trained on."""
    global _same_data_as
    state = (published.version, trainable.last_change_id(session))
    if state == _same_data_as:
        return True
    data = all_ratings(session)
    same = ratings_fingerprint(data.user_ids, data.artist_ids, data.ratings) == (
        published.fingerprint
    )
    _same_data_as = state if same else None
    return same


def _within_gap(session: Session, policy: RetrainPolicy, now: datetime, *times: object) -> bool:
    if policy.min_gap <= timedelta(0):
        return False
    latest = [t for t in (*times, queries.latest_job_time(session, "train")) if t is not None]
    return any(now - t < policy.min_gap for t in latest if isinstance(t, datetime))


def retrain_reason(
    session: Session, model_dir: Path, policy: RetrainPolicy, now: datetime | None = None
) -> str | None:
    """Why a training is due now, or None when it is not."""
    now = now or utcnow()
    published = newest_published(model_dir)
    if published is None:
        if trainable.trainable_count(session) == 0 or _within_gap(session, policy, now):
            return None
        return "no model yet"
    if _within_gap(session, policy, now, published.created_at):
        return None
    changed = trainable.changes_since(session, published.read_at)
    if changed == 0:
        return None
    if policy.after_ratings and changed >= policy.after_ratings:
        reason = f"{changed} new ratings"
    elif policy.after > timedelta(0) and now - published.created_at >= policy.after:
        reason = "schedule"
    else:
        return None
    return None if data_unchanged(session, published) else reason


def maybe_queue_training(
    session: Session,
    sender: JobSender,
    model_dir: Path,
    policy: RetrainPolicy,
    now: datetime | None = None,
) -> JobView | None:
    """Queue a training when one is due and none is queued or running; the queued job, if any.
    Counts no check will need again are forgotten."""
    if job_rows.active_job(session, "train") is not None:
        return None
    published = newest_published(model_dir)
    if published is not None:
        trainable.forget_changes_before(session, published.read_at - KEEP_CHANGES)
    reason = retrain_reason(session, model_dir, policy, now)
    if reason is None:
        return None
    try:
        return queue_training(session, sender, reason=reason)
    except Conflict:  # queued by someone else since we looked
        return None
