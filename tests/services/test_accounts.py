"""The accounts service: sign-up policy, log-in, password change and deletion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from musicrec.db import auth_sessions, users
from musicrec.services import accounts
from musicrec.services.errors import Conflict, InvalidInput

PASSWORD = "a long enough passphrase"
LATER = datetime(2030, 1, 1, tzinfo=UTC)


def test_sign_up_then_log_in_by_username_or_email(session: Session) -> None:
    user = accounts.sign_up(session, "Ada", "Ada@Example.org", PASSWORD, PASSWORD)

    assert user.password_hash and PASSWORD not in user.password_hash
    assert accounts.authenticate(session, "ada", PASSWORD) is user
    assert accounts.authenticate(session, "ada@example.org", PASSWORD) is user
    assert accounts.authenticate(session, "Ada", "not the passphrase") is None
    assert accounts.authenticate(session, "nobody", PASSWORD) is None
    assert accounts.account_key(session, " ADA ") == f"account:{user.id}"
    assert accounts.account_key(session, " Nobody ") == "login:nobody"


def test_sign_up_reports_every_bad_field(session: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        accounts.sign_up(session, "a", "not an email", "short", "short")

    assert set(refused.value.errors) == {"username", "email", "password"}
    assert refused.value.field == "username"


def test_a_taken_name_or_email_is_a_conflict(session: Session) -> None:
    accounts.sign_up(session, "ada", "ada@example.org", PASSWORD)

    with pytest.raises(Conflict) as taken:
        accounts.sign_up(session, "ADA", "ADA@example.org", PASSWORD)
    with pytest.raises(Conflict) as mixed:  # the taken name is the answer (409), with the rest
        accounts.sign_up(session, "ada", "bob@example.org", PASSWORD, "a different passphrase")

    assert taken.value.errors == {
        "username": "This username is taken.",
        "email": "An account with this email exists.",
    }
    assert set(mixed.value.errors) == {"username", "confirmation"}


def test_changing_the_password_ends_every_session(session: Session) -> None:
    user = accounts.sign_up(session, "ada", "ada@example.org", PASSWORD)
    auth_sessions.add_session(session, "s1", user.id, LATER)
    new = "another long passphrase"

    with pytest.raises(InvalidInput) as wrong:
        accounts.change_password(session, user, "not the passphrase", new)
    accounts.change_password(session, user, PASSWORD, new)
    session.expunge_all()

    assert wrong.value.field == "current_password"
    record, _user = auth_sessions.get_session_and_user(session, "s1")  # type: ignore[misc]
    assert record.revoked_at is not None
    assert accounts.authenticate(session, "ada", new) is not None
    assert accounts.authenticate(session, "ada", PASSWORD) is None


def test_deleting_an_account_needs_its_password(session: Session) -> None:
    user = accounts.sign_up(session, "ada", "ada@example.org", PASSWORD)

    with pytest.raises(InvalidInput):
        accounts.delete_account(session, user, "not the passphrase")
    accounts.delete_account(session, user, PASSWORD)
    session.expunge_all()

    assert users.get_user(session, user.id) is None
