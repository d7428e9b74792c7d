"""Password hashing: argon2id at OWASP's cost, or at its smallest cost for test servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import extract_parameters

from musicrec.services import passwords


@pytest.fixture
def fast() -> Iterator[None]:
    passwords.use_fast_hashing(True)
    yield
    passwords.use_fast_hashing(False)


def test_the_fast_test_setting_still_hashes_and_checks_with_argon2id(fast: None) -> None:
    stored = passwords.hash_password("a long enough passphrase")

    assert stored.startswith("$argon2id$")
    assert extract_parameters(stored).memory_cost == passwords.FAST_HASHER.memory_cost
    assert passwords.verify_password(stored, "a long enough passphrase")
    assert not passwords.verify_password(stored, "another passphrase")
    assert not passwords.verify_password(None, "a long enough passphrase")


def test_the_default_is_owasps_cost() -> None:
    passwords.use_fast_hashing(False)
    stored = passwords.hash_password("a long enough passphrase")

    assert extract_parameters(stored).memory_cost == 19 * 1024
    assert extract_parameters(stored).time_cost == 2
