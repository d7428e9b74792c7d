"""Settings read from the environment, with defaults that work on a fresh clone.

| variable               | default                                              |
|------------------------|------------------------------------------------------|
| MUSICREC_INSTANCE_DIR  | ./instance (created on first use)                    |
| MUSICREC_DATABASE_URL  | sqlite:///<instance>/musicrec.sqlite3                |
| MUSICREC_SECRET_KEY    | generated once, kept in <instance>/secret_key (0600) |
| MUSICREC_MODEL_DIR     | <instance>/models                                    |
| MUSICREC_MODEL_STORE   | folder (MODEL_DIR, shared by every node); database: versions in |
|                        | the database, MODEL_DIR a local cache (services/model_store.py) |
| MUSICREC_ENV           | development (or production)                          |
| MUSICREC_RATE_LIMITS   | 10/minute (failed logins, sign-ups); "off" disables  |
| MUSICREC_RATE_LIMIT_STORAGE | database (shared by every worker); or redis://..., memory:// |
| MUSICREC_SESSION_IDLE_MINUTES | 60                                            |
| MUSICREC_SESSION_MAX_HOURS    | 24                                            |
| MUSICREC_JOB_QUEUE_URL | sqlite (<instance>/jobs.sqlite3); redis://host:port/db in production |
| MUSICREC_RETRAIN_AFTER_RATINGS | 500 new or changed ratings queue a training; 0: never  |
| MUSICREC_RETRAIN_AFTER_HOURS   | 24: a training at least this often; 0: never           |
| MUSICREC_RETRAIN_MIN_GAP_HOURS | 4: no automatic training sooner after the last one     |
| SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET | unset: the Spotify features are hidden        |
| SPOTIFY_REDIRECT_URI   | http://127.0.0.1:5000/spotify/callback               |
| MUSICREC_SPOTIFY_API_URL      | https://api.spotify.com/v1/                   |
| MUSICREC_SPOTIFY_ACCOUNTS_URL | https://accounts.spotify.com/                 |
| MUSICREC_TOKEN_KEY     | Fernet key of stored Spotify tokens; else <instance>/token_key |
| LASTFM_API_KEY         | unset: no Last.fm top songs                          |
| MUSICREC_LASTFM_API_URL | https://ws.audioscrobbler.com/2.0/                  |
| MUSICREC_SMTP_HOST     | empty: mail is written to <instance>/mail (not the log)   |
| MUSICREC_SMTP_PORT     | 587                                                       |
| MUSICREC_SMTP_USER / MUSICREC_SMTP_PASSWORD | empty: no SMTP log-in                |
| MUSICREC_SMTP_TLS      | starttls (or ssl, or none)                                |
| MUSICREC_MAIL_FROM     | musicrec@localhost                                        |
| MUSICREC_PUBLIC_URL    | the origin of links in mail; required in production. Development: |
|                        | the address `musicrec serve` is bound to, else 127.0.0.1:5000 |
| MUSICREC_FAST_PASSWORD_HASHING | off; 1: argon2id at its smallest cost, for test servers  |
|                        | only (the attack suite's); refused in production          |
| MUSICREC_WORKER_CONNECTIONS | 2000 connections per gevent worker (musicrec serve)      |
| MUSICREC_CONNECTIONS_PER_ADDRESS | a tenth of the above; 0 (off) behind a proxy        |
| MUSICREC_BODY_TIMEOUT  | 10 seconds for a request body to arrive (then 408)        |
|                        | (these three are read by musicrec.web.server_limits)      |
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

SECRET_KEY_BYTES = 32
SPOTIFY_API_URL = "https://api.spotify.com/v1/"
SPOTIFY_ACCOUNTS_URL = "https://accounts.spotify.com/"
SPOTIFY_REDIRECT_URI = "http://127.0.0.1:5000/spotify/callback"
LASTFM_API_URL = "https://ws.audioscrobbler.com/2.0/"
MIN_SECRET_KEY_LENGTH = 32
# Where links in mail point when nothing says otherwise (a development app built without
# MUSICREC_PUBLIC_URL and not through `musicrec serve`): never the request's Host header.
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"


class ConfigurationError(RuntimeError):
    """The environment describes a set-up the app must refuse to run with."""


@dataclass(frozen=True)
class SpotifySettings:
    """The Spotify app's credentials and where its services are; without a client id and secret
    the Spotify features are hidden. ``token_key`` encrypts stored refresh tokens (Fernet)."""

    client_id: str = ""
    client_secret: str = ""
    redirect_uri: str = SPOTIFY_REDIRECT_URI
    api_url: str = SPOTIFY_API_URL
    accounts_url: str = SPOTIFY_ACCOUNTS_URL
    token_key: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_env(cls, env: dict[str, str], instance_dir: Path) -> SpotifySettings:
        client_id = env.get("SPOTIFY_CLIENT_ID", "")
        client_secret = env.get("SPOTIFY_CLIENT_SECRET", "")
        token_key = env.get("MUSICREC_TOKEN_KEY", "")
        if client_id and client_secret and not token_key:
            token_key = stored_token_key(instance_dir)
        return cls(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=env.get("SPOTIFY_REDIRECT_URI") or SPOTIFY_REDIRECT_URI,
            api_url=env.get("MUSICREC_SPOTIFY_API_URL") or SPOTIFY_API_URL,
            accounts_url=env.get("MUSICREC_SPOTIFY_ACCOUNTS_URL") or SPOTIFY_ACCOUNTS_URL,
            token_key=token_key,
        )


@dataclass(frozen=True)
class Settings:
    """Everything the app, the CLI and the services need to know about their surroundings."""

    instance_dir: Path
    database_url: str
    secret_key: str
    model_dir: Path
    keep_models: int = 5
    proxy_hops: int = 0  # reverse proxies in front whose X-Forwarded-* headers are trusted
    env: str = "development"
    rate_limits: str = "10/minute"
    rate_limit_storage: str = "database"  # the app's database; or memory://, redis://...
    session_idle: timedelta = timedelta(minutes=60)
    session_max: timedelta = timedelta(hours=24)
    job_queue_url: str = ""  # empty: a SQLite queue file in the instance folder
    retrain_after_ratings: int = 500
    retrain_after: timedelta = timedelta(hours=24)
    # No automatic training sooner than this after the last training (at most 6 a day).
    retrain_min_gap: timedelta = timedelta(hours=4)
    spotify: SpotifySettings = field(default_factory=SpotifySettings)
    lastfm_api_key: str = ""
    lastfm_api_url: str = LASTFM_API_URL
    smtp_host: str = ""  # empty: mail goes to <instance>/mail and the log (development)
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: str = "starttls"  # starttls, ssl or none
    mail_from: str = "musicrec@localhost"
    public_url: str = ""  # e.g. https://music.example.org: the origin of links sent by mail
    fast_password_hashing: bool = False  # a test setting: see services/passwords.py
    model_store: str = "folder"  # or "database": versions in the database, model_dir a cache

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def link_origin(self) -> str:
        """The origin of links sent by mail: configured, never taken from a request."""
        return self.public_url.rstrip("/") or DEVELOPMENT_PUBLIC_URL

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        instance_dir = Path(env.get("MUSICREC_INSTANCE_DIR") or "instance").resolve()
        database_url = env.get("MUSICREC_DATABASE_URL") or sqlite_url(
            instance_dir / "musicrec.sqlite3"
        )
        model_dir = Path(env.get("MUSICREC_MODEL_DIR") or instance_dir / "models").resolve()
        mode = env.get("MUSICREC_ENV", "development")
        secret_key = env.get("MUSICREC_SECRET_KEY", "")
        if mode == "production":
            check_production_secret(secret_key)
        else:
            secret_key = secret_key or stored_secret_key(instance_dir)
        return cls(
            instance_dir=instance_dir,
            database_url=database_url,
            secret_key=secret_key,
            model_dir=model_dir,
            keep_models=max(1, int(env.get("MUSICREC_KEEP_MODELS", 5))),
            proxy_hops=max(0, int(env.get("MUSICREC_PROXY_HOPS", 0))),
            env=mode,
            rate_limits=env.get("MUSICREC_RATE_LIMITS", "10/minute"),
            rate_limit_storage=env.get("MUSICREC_RATE_LIMIT_STORAGE", "database"),
            session_idle=timedelta(minutes=float(env.get("MUSICREC_SESSION_IDLE_MINUTES", 60))),
            session_max=timedelta(hours=float(env.get("MUSICREC_SESSION_MAX_HOURS", 24))),
            job_queue_url=env.get("MUSICREC_JOB_QUEUE_URL", ""),
            retrain_after_ratings=max(0, int(env.get("MUSICREC_RETRAIN_AFTER_RATINGS", 500))),
            retrain_after=timedelta(hours=float(env.get("MUSICREC_RETRAIN_AFTER_HOURS", 24))),
            retrain_min_gap=timedelta(
                hours=max(0.0, float(env.get("MUSICREC_RETRAIN_MIN_GAP_HOURS", 4)))
            ),
            spotify=SpotifySettings.from_env(env, instance_dir),
            lastfm_api_key=env.get("LASTFM_API_KEY", ""),
            lastfm_api_url=env.get("MUSICREC_LASTFM_API_URL") or LASTFM_API_URL,
            smtp_host=env.get("MUSICREC_SMTP_HOST", ""),
            smtp_port=int(env.get("MUSICREC_SMTP_PORT", 587)),
            smtp_user=env.get("MUSICREC_SMTP_USER", ""),
            smtp_password=env.get("MUSICREC_SMTP_PASSWORD", ""),
            smtp_tls=env.get("MUSICREC_SMTP_TLS", "starttls").lower(),
            mail_from=env.get("MUSICREC_MAIL_FROM", "musicrec@localhost"),
            public_url=env.get("MUSICREC_PUBLIC_URL", "").rstrip("/"),
            fast_password_hashing=env.get("MUSICREC_FAST_PASSWORD_HASHING", "") == "1",
            model_store=(env.get("MUSICREC_MODEL_STORE") or "folder").strip().lower(),
        )

    def check(self) -> None:
        """Refuse settings that are unsafe for the mode we run in (ASVS 13.x)."""
        if self.is_production:
            check_production_secret(self.secret_key)
            if self.fast_password_hashing:
                raise ConfigurationError(
                    "MUSICREC_FAST_PASSWORD_HASHING is for test servers: never in production."
                )
            if not self.public_url:
                raise ConfigurationError(
                    "MUSICREC_PUBLIC_URL must be set in production (e.g. https://music.example.org):"
                    " links in mail are built on it, never on the request's Host header."
                )
        if self.public_url:
            check_public_url(self.public_url)
        check_fleet_settings(self)
        if self.spotify.enabled:
            check_token_key(self.spotify.token_key)
            check_redirect_uri(self.spotify.redirect_uri)


def check_production_secret(secret_key: str) -> None:
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            f"MUSICREC_SECRET_KEY must be set to at least {MIN_SECRET_KEY_LENGTH} random "
            "characters in production (e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')."
        )


MODEL_STORES = ("folder", "database")


def check_fleet_settings(settings: Settings) -> None:
    """Refuse settings of several nodes that cannot work together (what one node can see).

    ``MUSICREC_MODEL_STORE=database`` says the nodes share no folder: then a SQLite database or
    job queue file (one machine's files) cannot be what they share. A Redis job queue says
    several machines too: then limits counted in each worker's memory are no limits. Checked in
    production; the nodes' shared secrets are compared through the database (services.fleet).
    """
    if settings.model_store not in MODEL_STORES:
        raise ConfigurationError(
            f"MUSICREC_MODEL_STORE must be one of {', '.join(MODEL_STORES)}, "
            f"not {settings.model_store!r}."
        )
    if not settings.is_production:
        return
    redis_queue = settings.job_queue_url.startswith(("redis://", "rediss://"))
    if settings.model_store == "database":
        if settings.database_url.startswith("sqlite"):
            raise ConfigurationError(
                "MUSICREC_MODEL_STORE=database is for nodes that share no folder, but a SQLite "
                "MUSICREC_DATABASE_URL is a file of one machine: use PostgreSQL, or the folder "
                "store on one machine."
            )
        if not redis_queue:
            raise ConfigurationError(
                "MUSICREC_MODEL_STORE=database is for nodes that share no folder, but the job "
                "queue is a file in each node's instance folder: set MUSICREC_JOB_QUEUE_URL to "
                "a Redis URL every node and the worker share."
            )
    if (redis_queue or settings.model_store == "database") and (
        settings.rate_limit_storage.startswith("memory")
    ):
        raise ConfigurationError(
            "MUSICREC_RATE_LIMIT_STORAGE=memory:// counts in each worker of each node: with "
            "several nodes (a Redis job queue, or MUSICREC_MODEL_STORE=database) use database "
            "or a Redis URL."
        )


def check_public_url(url: str) -> None:
    """An http(s) origin: scheme and host (and port), no user, path, query or fragment."""
    parts = urlsplit(url)
    try:
        has_host = bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # a port that is no number, or out of range
        has_host = False
    if (
        parts.scheme not in ("http", "https")
        or not has_host
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ConfigurationError(
            f"MUSICREC_PUBLIC_URL must be an http(s) origin such as https://music.example.org, "
            f"not {url!r}."
        )


def bound_origin(host: str, port: int) -> str:
    """The origin of a server bound to ``host:port``; on every interface (0.0.0.0, ::) the
    loopback address stands for it (the only one sure to reach this machine)."""
    wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # nosec B104: no bind
    host = wildcard.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def check_token_key(key: str) -> None:
    """A Fernet key: 32 bytes in url-safe base64 (``cryptography`` is imported only here)."""
    from cryptography.fernet import Fernet

    try:
        Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ConfigurationError(
            "MUSICREC_TOKEN_KEY must be a Fernet key (e.g. python -c 'from cryptography.fernet "
            "import Fernet; print(Fernet.generate_key().decode())')."
        ) from None


def check_redirect_uri(uri: str) -> None:
    """Spotify accepts HTTPS redirect URIs, or plain HTTP to a loopback address by number
    (``http://127.0.0.1:PORT``), never ``localhost``."""
    parts = urlsplit(uri)
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1")
    if not (parts.scheme == "https" or loopback) or not parts.hostname:
        raise ConfigurationError(
            "SPOTIFY_REDIRECT_URI must be https://... or http://127.0.0.1:PORT/... "
            "(Spotify refuses http://localhost)."
        )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def stored_secret_key(instance_dir: Path) -> str:
    """Read the instance's secret key, generating it on first use (never hard-coded)."""
    return _stored_key(instance_dir / "secret_key", secrets.token_urlsafe(SECRET_KEY_BYTES))


def stored_token_key(instance_dir: Path) -> str:
    """The instance's Fernet key for tokens at rest (32 url-safe base64 bytes), generated on
    first use like the secret key."""
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
    return _stored_key(instance_dir / "token_key", key)


def _stored_key(key_file: Path, key: str) -> str:
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting together keep whichever key was written first.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
