"""The accounts service client against the stand-in: PKCE and state, the code exchange,
refresh, and a rejected refresh token as its own error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from musicrec.integrations.spotify.authorization import (
    SCOPES,
    RefreshRejected,
    SpotifyAccounts,
    SpotifyAuthError,
)
from tests.spotify_fixtures import CLIENT_ID, CLIENT_SECRET, AccountsStandIn

REDIRECT = "http://127.0.0.1:5000/spotify/callback"


def accounts(standin: AccountsStandIn, secret: str = CLIENT_SECRET) -> SpotifyAccounts:
    return SpotifyAccounts(standin.url, CLIENT_ID, secret, REDIRECT)


def authorize(standin: AccountsStandIn) -> tuple[str, str, str]:
    """(code, state sent, verifier) after the stand-in's consent page."""
    started = accounts(standin).authorization_request()
    answer = requests.get(started.url, allow_redirects=False, timeout=5)
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["state"] == [started.state]
    return back["code"][0], started.state, started.code_verifier


def test_the_authorize_url_carries_state_pkce_and_only_the_needed_scopes(
    accounts_standin: AccountsStandIn,
) -> None:
    started = accounts(accounts_standin).authorization_request()
    query = parse_qs(urlsplit(started.url).query)

    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [started.state] and len(started.state) >= 20
    assert set(query["scope"][0].split()) == set(SCOPES)
    assert "playlist-modify-public" not in query["scope"][0]
    assert query["redirect_uri"] == [REDIRECT]


def test_a_code_is_exchanged_with_its_verifier_once(accounts_standin: AccountsStandIn) -> None:
    code, _state, verifier = authorize(accounts_standin)

    tokens = accounts(accounts_standin).exchange_code(code, verifier)

    assert tokens.access_token.startswith("access-") and tokens.refresh_token
    with pytest.raises(SpotifyAuthError, match="invalid_grant"):
        accounts(accounts_standin).exchange_code(code, verifier)  # a code used twice


def test_a_wrong_verifier_is_refused(accounts_standin: AccountsStandIn) -> None:
    code, _state, _verifier = authorize(accounts_standin)

    with pytest.raises(SpotifyAuthError, match="invalid_grant"):
        accounts(accounts_standin).exchange_code(code, "not-the-verifier" * 4)


def test_refresh_keeps_the_refresh_token_when_none_is_sent(
    accounts_standin: AccountsStandIn,
) -> None:
    code, _state, verifier = authorize(accounts_standin)
    first = accounts(accounts_standin).exchange_code(code, verifier)

    again = accounts(accounts_standin).refresh(first.refresh_token)

    assert again.refresh_token == first.refresh_token
    assert again.access_token != first.access_token
    sent = accounts_standin.token_requests[-1]
    assert sent["grant_type"] == "refresh_token" and "client_secret" not in sent  # Basic auth


def test_a_rejected_refresh_token_is_its_own_error(accounts_standin: AccountsStandIn) -> None:
    with pytest.raises(RefreshRejected):
        accounts(accounts_standin).refresh("revoked")


def test_a_wrong_client_secret_is_not_taken_for_a_lost_connection(
    accounts_standin: AccountsStandIn,
) -> None:
    with pytest.raises(SpotifyAuthError) as refused:
        accounts(accounts_standin, secret="wrong").refresh("anything")

    assert not isinstance(refused.value, RefreshRejected)
    assert refused.value.error == "invalid_client"
