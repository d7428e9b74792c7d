"""Hypothesis strategies and settings shared by the security properties."""

from __future__ import annotations

from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.web.conftest import api_signup, unique_name

# Surrogates cannot be sent as UTF-8 at all; everything else goes, NUL and control characters
# included (tests/web/test_client_errors.py pins their exact answers).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=80)

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# For properties that check a password per example (argon2 costs tens of milliseconds).
HASHING = settings(BOUNDED, max_examples=20)

JSON_KEYS = st.sampled_from(["username", "password", "email", "rating", "name", "n", "q"])
JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
JSON = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(JSON_KEYS, children, max_size=4)
    ),
    max_leaves=12,
)


def cached_account(client: FlaskClient, role: str) -> tuple[str, str]:
    """(username, token) of one account per app and role: signing up hashes a password, too
    slow to do for every example."""
    accounts = client.application.config.setdefault("SECURITY_ACCOUNTS", {})
    if role not in accounts:
        username = unique_name(role)
        accounts[role] = (username, api_signup(client, username)[1])
    return accounts[role]
