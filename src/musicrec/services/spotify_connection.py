"""A user's Spotify connection: connecting (OAuth with PKCE), the tokens kept per user (the
refresh token encrypted with Fernet), refreshing them, and disconnecting.

A refresh token Spotify rejects disconnects the account: the tokens are dropped and a message
asks the user to connect again (``SpotifyDisconnected``), never a crash.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn, TypeVar

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from musicrec.config import SpotifySettings
from musicrec.db import spotify_links
from musicrec.db.models import SpotifyLink
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import RetryingHttp, UpstreamError
from musicrec.integrations.spotify.authorization import (
    AuthorizationRequest,
    RefreshRejected,
    SpotifyAccounts,
    SpotifyAuthError,
    TokenSet,
)
from musicrec.integrations.spotify.web_api import SpotifyWebApi
from musicrec.services.errors import Conflict, ServiceError

Stored = TypeVar("Stored")
REFRESH_LEEWAY = 60.0  # seconds before expiry at which a token is refreshed before use
# Spotify lets a refresh token live 6 months after the user authorised the app.
REFRESH_TOKEN_LIFETIME = timedelta(days=182)
RECONNECT_MESSAGE = (
    "Spotify no longer accepts this app's access to your account (it expires 6 months after "
    "you connect, or when you remove the app): connect again."
)


class SpotifyDisabled(ServiceError):
    """The app has no Spotify client credentials: the features are hidden."""


class SpotifyNotConnected(Conflict):
    """The user has no working Spotify connection."""

    def __init__(self, message: str = "Connect your Spotify account first.") -> None:
        super().__init__({"spotify": message})


class SpotifyDisconnected(SpotifyNotConnected):
    """Spotify rejected the refresh token: the connection was dropped."""

    def __init__(self) -> None:
        super().__init__(RECONNECT_MESSAGE)


class ConnectionRefused(ServiceError):
    """The authorization did not complete (declined, or the code was refused)."""


@dataclass(frozen=True)
class ConnectionView:
    connected: bool
    display_name: str | None = None
    lost_reason: str | None = None


def accounts(settings: SpotifySettings) -> SpotifyAccounts:
    if not settings.enabled:
        raise SpotifyDisabled("Spotify is not configured on this server.")
    return SpotifyAccounts(
        settings.accounts_url, settings.client_id, settings.client_secret, settings.redirect_uri
    )


def _vault(settings: SpotifySettings) -> Fernet:
    return Fernet(settings.token_key.encode("ascii"))


def status(session: Session, user_id: int) -> ConnectionView:
    link = spotify_links.get_link(session, user_id)
    if link is None:
        return ConnectionView(connected=False)
    if link.refresh_token is None:
        return ConnectionView(connected=False, lost_reason=link.lost_reason)
    return ConnectionView(connected=True, display_name=link.display_name)


def start(settings: SpotifySettings) -> AuthorizationRequest:
    """Where to send the user; the caller keeps ``state`` and ``code_verifier`` until the
    callback (in the signed session)."""
    return accounts(settings).authorization_request()


def complete(
    session: Session,
    settings: SpotifySettings,
    user_id: int,
    code: str,
    code_verifier: str,
    http: RetryingHttp | None = None,
) -> ConnectionView:
    """Exchange the code for tokens, read the user's display name, then keep both.

    Both calls to Spotify come before the first write: the caller holds no transaction
    across them, and the one that stores the tokens is short.
    """
    try:
        tokens = accounts(settings).exchange_code(code, code_verifier)
    except (SpotifyAuthError, UpstreamError) as error:
        raise ConnectionRefused(f"Spotify did not complete the connection ({error}).") from error
    try:
        me = SpotifyWebApi(settings.api_url, _JustIssued(tokens), http).current_user()
    except UpstreamError:  # the name is a nicety; the connection stands
        me = {}
    store_tokens(session, settings, user_id, tokens, authorized_at=utcnow())
    name = me.get("display_name") or me.get("id")
    spotify_links.save_link(
        session,
        user_id,
        display_name=str(name)[:256] if name else None,
        spotify_user_id=str(me["id"])[:128] if me.get("id") else None,
    )
    return status(session, user_id)


def disconnect(session: Session, user_id: int) -> bool:
    """Delete the user's tokens; whether there were any."""
    return spotify_links.delete_link(session, user_id)


def store_tokens(
    session: Session,
    settings: SpotifySettings,
    user_id: int,
    tokens: TokenSet,
    authorized_at: datetime | None = None,
) -> SpotifyLink:
    """Keep the user's tokens, both encrypted (``authorized_at``: when the user consented,
    from which the refresh token's 6 months run)."""
    vault = _vault(settings)
    values: dict[str, object] = {
        "access_token": vault.encrypt(tokens.access_token.encode()).decode("ascii"),
        "refresh_token": vault.encrypt(tokens.refresh_token.encode()).decode("ascii"),
        "expires_at": datetime.fromtimestamp(tokens.expires_at, UTC),
        "scope": tokens.scope[:512],
        "lost_reason": None,
    }
    if authorized_at is not None:
        values["authorized_at"] = authorized_at
    return spotify_links.save_link(session, user_id, **values)


def lose(session: Session, user_id: int, reason: str = RECONNECT_MESSAGE) -> None:
    """Drop the tokens, keeping why, so the account page can ask to connect again."""
    spotify_links.save_link(
        session, user_id, access_token=None, refresh_token=None, expires_at=None, lost_reason=reason
    )


class _JustIssued:
    """The tokens Spotify has just issued, before they are stored (nothing to refresh yet)."""

    def __init__(self, tokens: TokenSet) -> None:
        self.tokens = tokens

    def access_token(self) -> str:
        return self.tokens.access_token

    def refreshed_token(self) -> str:
        return self.tokens.access_token


class StoredTokens:
    """The user's tokens from the database, refreshed (and stored again) when they expire."""

    def __init__(self, session: Session, settings: SpotifySettings, user_id: int) -> None:
        self.session, self.settings, self.user_id = session, settings, user_id

    def _link(self) -> SpotifyLink:
        link = spotify_links.get_link(self.session, self.user_id)
        if link is None or link.refresh_token is None:
            raise SpotifyNotConnected()
        return link

    def access_token(self) -> str:
        token = self.current_token()
        return token if token is not None else self.refreshed_token()

    def current_token(self) -> str | None:
        """The stored access token, or None when it is about to expire."""
        link = self._link()
        expires = link.expires_at.timestamp() if link.expires_at else 0.0
        if link.access_token is None or expires - time.time() < REFRESH_LEEWAY:
            return None
        return self._decrypt(link.access_token)

    def refreshed_token(self) -> str:
        try:
            tokens = accounts(self.settings).refresh(self.refresh_token())
        except RefreshRejected:
            self.lost()
        store_tokens(self.session, self.settings, self.user_id, tokens)
        return tokens.access_token

    def refresh_token(self) -> str:
        """The stored refresh token; past its 6 months the connection is lost instead."""
        link = self._link()
        assert link.refresh_token is not None
        if link.authorized_at and utcnow() - link.authorized_at > REFRESH_TOKEN_LIFETIME:
            self.lost()
        return self._decrypt(link.refresh_token)

    def lost(self) -> NoReturn:
        """Drop the tokens Spotify refused and say so."""
        lose(self.session, self.user_id)
        raise SpotifyDisconnected() from None

    def keep(self, tokens: TokenSet) -> str:
        """Store refreshed tokens, unless the user disconnected meanwhile."""
        self._link()
        store_tokens(self.session, self.settings, self.user_id, tokens)
        return tokens.access_token

    def _decrypt(self, value: str) -> str:
        try:
            return _vault(self.settings).decrypt(value.encode("ascii")).decode()
        except InvalidToken:  # the key changed: the stored tokens are unreadable
            lose(
                self.session,
                self.user_id,
                "The stored Spotify tokens cannot be read: connect again.",
            )
            raise SpotifyDisconnected() from None


class EngineTokens:
    """``StoredTokens`` for work outside a request's transaction (the import job, a playlist
    export): each use of the database is its own short transaction, and none is open while
    Spotify answers (a refresh reads the token, asks Spotify, then stores the answer)."""

    def __init__(self, engine: Engine, settings: SpotifySettings, user_id: int) -> None:
        self.engine, self.settings, self.user_id = engine, settings, user_id

    def _with_tokens(self, use: Callable[[StoredTokens], Stored]) -> Stored:
        lost: SpotifyDisconnected | None = None
        with transaction(self.engine) as session:
            try:
                return use(StoredTokens(session, self.settings, self.user_id))
            except SpotifyDisconnected as error:
                lost = error  # committed as the block ends: the link is marked lost
        raise lost

    def access_token(self) -> str:
        token = self._with_tokens(StoredTokens.current_token)
        return token if token is not None else self.refreshed_token()

    def refreshed_token(self) -> str:
        refresh_token = self._with_tokens(StoredTokens.refresh_token)
        try:
            tokens = accounts(self.settings).refresh(refresh_token)
        except RefreshRejected:
            self._with_tokens(StoredTokens.lost)
        return self._with_tokens(lambda stored: stored.keep(tokens))
