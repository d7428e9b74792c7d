"""Failed log-ins, stored so that every worker (and every server) counts them alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from musicrec.db.models import FailedLogin


def record_failure(
    session: Session, account_key: str, client: str, device: str | None, at: datetime
) -> None:
    session.add(FailedLogin(account_key=account_key, client=client, device=device, at=at))
    session.flush()


def failures_since(
    session: Session,
    since: datetime,
    *,
    account_key: str | None = None,
    client: str | None = None,
    device: str | None = None,
    untrusted_only: bool = False,
) -> int:
    """Failures at or after ``since`` matching every criterion given."""
    query = select(func.count()).select_from(FailedLogin).where(FailedLogin.at >= since)
    if account_key is not None:
        query = query.where(FailedLogin.account_key == account_key)
    if client is not None:
        query = query.where(FailedLogin.client == client)
    if device is not None:
        query = query.where(FailedLogin.device == device)
    if untrusted_only:
        query = query.where(FailedLogin.device.is_(None))
    return int(session.execute(query).scalar_one())


def forget_before(session: Session, cutoff: datetime) -> None:
    session.execute(delete(FailedLogin).where(FailedLogin.at < cutoff))
