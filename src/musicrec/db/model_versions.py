"""Model versions in the database (``MUSICREC_MODEL_STORE=database``) and the nodes that serve
them. Every function takes the session (one short transaction each, opened by the caller).

A version is written as a row with ``complete`` false, then its chunks, then ``complete`` set
true: readers list and fetch complete versions only, so a half-written one is never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from musicrec.db.dialect import upsert_insert
from musicrec.db.models import ModelChunk, ModelVersionRow, Node


@dataclass(frozen=True)
class StoredVersion:
    """A complete version's name and what checks its bytes."""

    name: str
    meta: str
    sha256: str
    size: int
    chunks: int


def start_version(
    session: Session, name: str, meta: str, sha256: str, size: int, chunks: int
) -> None:
    """Insert an incomplete version (IntegrityError when the name is taken)."""
    session.add(
        ModelVersionRow(
            name=name, meta=meta, sha256=sha256, size=size, chunks=chunks, complete=False
        )
    )
    session.flush()


def add_chunk(session: Session, version: str, seq: int, data: bytes) -> None:
    session.add(ModelChunk(version=version, seq=seq, data=data))
    session.flush()


def complete_version(session: Session, name: str) -> bool:
    """Mark a version complete once all its chunks are in; whether it was there to mark."""
    done = session.execute(
        update(ModelVersionRow).where(ModelVersionRow.name == name).values(complete=True)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def complete_versions(session: Session) -> list[StoredVersion]:
    """Every complete version, in no particular order (names sort by publication time)."""
    rows = session.execute(
        select(
            ModelVersionRow.name,
            ModelVersionRow.meta,
            ModelVersionRow.sha256,
            ModelVersionRow.size,
            ModelVersionRow.chunks,
        ).where(ModelVersionRow.complete.is_(True))
    )
    return [StoredVersion(*row) for row in rows]


def incomplete_before(session: Session, before: datetime) -> list[str]:
    """Versions left incomplete since before ``before`` (an upload that died)."""
    return list(
        session.execute(
            select(ModelVersionRow.name).where(
                ModelVersionRow.complete.is_(False), ModelVersionRow.created_at < before
            )
        ).scalars()
    )


def chunk(session: Session, version: str, seq: int) -> bytes | None:
    """One chunk of a complete version; None when the version is gone (pruned, replaced)."""
    data = session.execute(
        select(ModelChunk.data)
        .join(ModelVersionRow, ModelVersionRow.name == ModelChunk.version)
        .where(
            ModelChunk.version == version,
            ModelChunk.seq == seq,
            ModelVersionRow.complete.is_(True),
        )
    ).scalar_one_or_none()
    return None if data is None else bytes(data)


def delete_versions(session: Session, names: list[str]) -> None:
    """Delete versions and their chunks (chunks first: SQLite may run without cascades)."""
    if not names:
        return
    session.execute(delete(ModelChunk).where(ModelChunk.version.in_(names)))
    session.execute(delete(ModelVersionRow).where(ModelVersionRow.name.in_(names)))


def record_node(
    session: Session, name: str, fingerprint: str, version: str | None, now: datetime
) -> None:
    """Insert or refresh a node's row: its fingerprint, the version it serves, seen now."""
    table = Node.__table__
    statement = (
        upsert_insert(session, table)
        .values(
            name=name, fingerprint=fingerprint, model_version=version, started_at=now, seen_at=now
        )
        .on_conflict_do_update(
            index_elements=[table.c.name],
            set_={"fingerprint": fingerprint, "model_version": version, "seen_at": now},
        )
    )
    session.execute(statement)


def forget_node(session: Session, name: str) -> None:
    session.execute(delete(Node).where(Node.name == name))


def live_nodes(session: Session, since: datetime) -> list[tuple[str, str, str | None]]:
    """(name, fingerprint, version served) of nodes seen since ``since``."""
    rows = session.execute(
        select(Node.name, Node.fingerprint, Node.model_version).where(Node.seen_at >= since)
    )
    return [(name, fingerprint, version) for name, fingerprint, version in rows]


def forget_nodes_before(session: Session, before: datetime) -> None:
    session.execute(delete(Node).where(Node.seen_at < before))
