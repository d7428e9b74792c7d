"""Deleting an account and everything that holds it.

The database forgets the account in the deletion's own transaction: the account and, through
ON DELETE CASCADE, its ratings, recommendations, "not for me" list, sessions, reset tokens and
Spotify link; the artists it added that nobody confirmed; its import jobs; and its id goes on
the erasure list.
Published model versions are files: the worker's once-a-minute check (``musicrec worker``)
strips every erased id from every kept version, checks that none holds one any more, and
records when (``erasures.applied_at``); a check that fails is retried the next minute, and a
version published later (by a training that read the ratings before the deletion) is caught
the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from musicrec.db import erasures as erasure_rows
from musicrec.db import users
from musicrec.db.session import read_transaction, transaction
from musicrec.db.types import utcnow
from musicrec.engine.artifacts import ModelStore
from musicrec.engine.model_erasure import erase_users, versions_holding
from musicrec.services.model_store import FOLDER, shared_models

log = logging.getLogger("musicrec.erasure")


def erase_account(session: Session, user_id: int) -> None:
    """Delete the account and its data, in the caller's transaction (not committed).

    The private additions go first: an unconfirmed artist must keep its owner (a CHECK), so the
    foreign key's SET NULL can never make one public."""
    erasure_rows.delete_private_additions(session, user_id)
    erasure_rows.delete_imports(session, user_id)
    users.delete_user(session, user_id)
    erasure_rows.record_erasure(session, user_id)


@dataclass(frozen=True)
class ModelErasure:
    """One pass over the model folder: versions replaced ({old: new}) and any still holding
    an erased id (empty when the pass succeeded)."""

    replaced: dict[str, str] = field(default_factory=dict)
    still_holding: list[str] = field(default_factory=list)


def erase_from_models(engine: Engine, model_dir: Path, model_store: str = FOLDER) -> ModelErasure:
    """Strip every erased account from every kept model version, then check that none holds
    one; on success the erasures are marked applied. No transaction is open meanwhile.

    With ``model_store="database"`` the folder is first brought level with the database's
    versions, and each replacement is stored there in place of the original."""
    with read_transaction(engine) as session:
        erased = erasure_rows.erased_user_ids(session)
    if not erased:
        return ModelErasure()
    shared = shared_models(model_store, engine, model_dir)
    if shared is not None:
        shared.pull(every=True)
    store = ModelStore(model_dir)
    replaced = erase_users(store, erased)
    if shared is not None:
        for old, new in replaced.items():
            shared.replace(old, new)
    still_holding = versions_holding(store, erased)
    if not still_holding:
        with transaction(engine) as session:
            erasure_rows.mark_applied(session, erased, utcnow())
    return ModelErasure(replaced, still_holding)


def erase_from_models_logged(engine: Engine, model_dir: Path, model_store: str = FOLDER) -> None:
    """``erase_from_models`` for the worker's periodic check: the outcome is logged, a failure
    never stops the rest of the check (the erasures stay pending and are tried again)."""
    try:
        outcome = erase_from_models(engine, model_dir, model_store)
    except Exception:  # noqa: BLE001 - logged; the next check tries again
        log.exception("could not erase deleted accounts from the model versions")
        return
    for old, new in outcome.replaced.items():
        log.info("model version %s replaced by %s without deleted accounts", old, new)
    if outcome.still_holding:
        log.error("model versions still hold deleted accounts: %s", outcome.still_holding)
