"""Account queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session

from musicrec.db import artists, ratings, users
from musicrec.db.models import User


def test_keys_fold_case_and_emails_lose_surrounding_spaces() -> None:
    assert users.username_key("Ada_Lovelace") == "ada_lovelace"
    assert users.email_key("  Ada@Example.ORG ") == "ada@example.org"


def test_add_user_stores_the_folded_keys(session: Session) -> None:
    user = users.add_user(session, "Ada", " Ada@Example.org ", "hash")

    assert (user.username, user.username_key) == ("Ada", "ada")
    assert (user.email, user.email_key) == ("Ada@Example.org", "ada@example.org")
    assert users.get_user(session, user.id) is user
    assert users.get_user(session, user.id + 1) is None


def test_find_by_login_by_username_or_email_in_any_case(session: Session) -> None:
    ada = users.add_user(session, "Ada", "ada@example.org", "hash")
    users.add_user(session, "bob", "bob@example.org", "hash")

    for login in ("Ada", "ADA", " ada ", "ada@example.org", "  ADA@Example.ORG"):
        assert users.find_by_login(session, login) is ada, login
    assert users.find_by_login(session, "carol") is None
    assert users.find_by_login(session, "") is None


def test_find_by_login_skips_starter_users_without_a_password(session: Session) -> None:
    session.add(User(username="lastfm:7", username_key="lastfm:7", lastfm_id=7))
    session.flush()

    assert users.find_by_login(session, "lastfm:7") is None


def test_taken_names_and_emails_ignore_case(session: Session) -> None:
    users.add_user(session, "Ada", "ada@example.org", "hash")

    assert users.username_taken(session, "aDA") is True
    assert users.username_taken(session, "ada2") is False
    assert users.email_taken(session, " ADA@example.org") is True
    assert users.email_taken(session, "bob@example.org") is False


def test_delete_user_takes_their_ratings_and_leaves_others(session: Session) -> None:
    ada = users.add_user(session, "ada", "ada@example.org", "hash").id
    bob = users.add_user(session, "bob", "bob@example.org", "hash").id
    air = artists.add_artist(session, "Air", None).id
    ratings.set_rating(session, ada, air, 5)
    ratings.set_rating(session, bob, air, 6)

    users.delete_user(session, ada)
    session.expire_all()

    assert users.get_user(session, ada) is None
    assert ratings.count_user_ratings(session, ada) == 0
    assert ratings.count_user_ratings(session, bob) == 1
