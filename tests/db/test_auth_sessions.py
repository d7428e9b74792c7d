"""Server-side session records, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from musicrec.db import auth_sessions, users

NOON = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _user(session: Session, name: str = "ada") -> int:
    return users.add_user(session, name, f"{name}@example.org", "hash").id


def test_a_session_is_read_back_with_its_user_in_one_query(session: Session) -> None:
    ada = _user(session)
    auth_sessions.add_session(session, "s1", ada, NOON)
    session.expunge_all()

    found = auth_sessions.get_session_and_user(session, "s1")

    assert found is not None
    record, user = found
    assert (record.id, record.user_id, record.expires_at, record.revoked_at) == (
        "s1",
        ada,
        NOON,
        None,
    )
    assert user.username == "ada"
    assert auth_sessions.get_session_and_user(session, "unknown") is None


def test_touch_moves_last_seen(session: Session) -> None:
    auth_sessions.add_session(session, "s1", _user(session), NOON)
    later = NOON - timedelta(minutes=5)

    auth_sessions.touch(session, "s1", later)
    session.expunge_all()

    record, _user_row = auth_sessions.get_session_and_user(session, "s1")  # type: ignore[misc]
    assert record.last_seen_at == later


def test_revoke_keeps_the_first_revocation_time(session: Session) -> None:
    auth_sessions.add_session(session, "s1", _user(session), NOON)

    auth_sessions.revoke(session, "s1", NOON - timedelta(hours=2))
    auth_sessions.revoke(session, "s1", NOON - timedelta(hours=1))
    session.expunge_all()

    record, _user_row = auth_sessions.get_session_and_user(session, "s1")  # type: ignore[misc]
    assert record.revoked_at == NOON - timedelta(hours=2)


def test_revoke_all_ends_only_that_users_open_sessions(session: Session) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    for session_id, user_id in (("a1", ada), ("a2", ada), ("b1", bob)):
        auth_sessions.add_session(session, session_id, user_id, NOON)
    early, late = NOON - timedelta(hours=3), NOON - timedelta(hours=1)
    auth_sessions.revoke(session, "a1", early)

    auth_sessions.revoke_all(session, ada, late)
    session.expunge_all()

    revoked = {
        session_id: auth_sessions.get_session_and_user(session, session_id)[0].revoked_at  # type: ignore[index]
        for session_id in ("a1", "a2", "b1")
    }
    assert revoked == {"a1": early, "a2": late, "b1": None}


def test_a_deleted_users_sessions_are_gone(session: Session) -> None:
    ada = _user(session)
    auth_sessions.add_session(session, "s1", ada, NOON)

    users.delete_user(session, ada)

    assert auth_sessions.get_session_and_user(session, "s1") is None
