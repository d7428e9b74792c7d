"""Spotify's accounts service: the authorization-code flow with PKCE and ``state``, and token
refresh, through Authlib's OAuth 2 client.

Spotify answers a refresh token it no longer accepts (revoked, or past the 6 months after the
user authorised the app) with ``invalid_grant``: that is ``RefreshRejected``, which the caller
turns into a disconnection, never a crash.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from musicrec.integrations.http_retries import DEFAULT_TIMEOUT, UpstreamError

# What the features need and no more: reading top artists and recently played, followed
# artists, saved tracks; creating a private playlist and adding to it.
SCOPES = (
    "user-top-read",
    "user-follow-read",
    "user-library-read",
    "user-read-recently-played",
    "playlist-modify-private",
)


class SpotifyAuthError(RuntimeError):
    """The accounts service refused a request (``error`` is its OAuth error code)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error, self.description = error, description


class RefreshRejected(SpotifyAuthError):
    """The refresh token is no longer accepted: the user must connect again."""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: float  # seconds since the epoch
    scope: str


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the user, and what the callback must be checked against."""

    url: str
    state: str
    code_verifier: str


class SpotifyAccounts:
    """The accounts service at ``accounts_url`` for one registered app."""

    def __init__(
        self,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        base = accounts_url if accounts_url.endswith("/") else accounts_url + "/"
        self.authorize_url = urljoin(base, "authorize")
        self.token_url = urljoin(base, "api/token")
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri, self.timeout = redirect_uri, timeout

    def _client(self) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            token_endpoint_auth_method="client_secret_basic",  # nosec B106: a method name
            scope=" ".join(SCOPES),
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
        )

    def authorization_request(self) -> AuthorizationRequest:
        """A fresh ``state`` and PKCE verifier, and the authorize URL carrying the challenge."""
        verifier = generate_token(64)
        with self._client() as client:
            url, state = client.create_authorization_url(self.authorize_url, code_verifier=verifier)
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier)

    def exchange_code(self, code: str, code_verifier: str) -> TokenSet:
        """The tokens for an authorization code (the ``state`` was checked by the caller)."""
        with self._client() as client:
            token = self._call(
                lambda: client.fetch_token(
                    self.token_url,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    timeout=self.timeout,
                ),
                refresh=False,
            )
        return _token_set(token, refresh_token=None)

    def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens; the refresh token is kept when Spotify sends none."""
        with self._client() as client:
            client.scope = None  # a refresh keeps the granted scopes; send none
            token = self._call(
                lambda: client.refresh_token(
                    self.token_url, refresh_token=refresh_token, timeout=self.timeout
                ),
                refresh=True,
            )
        return _token_set(token, refresh_token=refresh_token)

    @staticmethod
    def _call(fetch: object, refresh: bool) -> dict[str, object]:
        try:
            token = fetch()  # type: ignore[operator]
        except OAuthError as error:
            code = str(error.error or "oauth_error")
            if refresh and code == "invalid_grant":
                raise RefreshRejected(code, error.description) from error
            raise SpotifyAuthError(code, error.description) from error
        except (requests.RequestException, ValueError) as error:
            raise UpstreamError(f"Spotify's accounts service did not answer: {error}") from error
        return dict(token)


def _token_set(token: dict[str, object], refresh_token: str | None) -> TokenSet:
    access = token.get("access_token")
    refresh = token.get("refresh_token") or refresh_token
    if not isinstance(access, str) or not isinstance(refresh, str):
        raise SpotifyAuthError("invalid_response", "the token answer lacks a token")
    expires_in = token.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float | str) else 3600.0
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_at=time.time() + lifetime,
        scope=str(token.get("scope") or ""),
    )
