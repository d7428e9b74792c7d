"""Settings read from the environment, with defaults that work on a fresh clone.

| variable               | default                                              |
|------------------------|------------------------------------------------------|
| MUSICREC_INSTANCE_DIR  | ./instance (created on first use)                    |
| MUSICREC_DATABASE_URL  | sqlite:///<instance>/musicrec.sqlite3                |
| MUSICREC_SECRET_KEY    | generated once, kept in <instance>/secret_key (0600) |
| MUSICREC_MODEL_DIR     | <instance>/models                                    |
| MUSICREC_ENV           | development (or production)                          |
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SECRET_KEY_BYTES = 32


@dataclass(frozen=True)
class Settings:
    """Everything the app, the CLI and the services need to know about their surroundings."""

    instance_dir: Path
    database_url: str
    secret_key: str
    model_dir: Path
    env: str = "development"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        instance_dir = Path(env.get("MUSICREC_INSTANCE_DIR") or "instance").resolve()
        database_url = env.get("MUSICREC_DATABASE_URL") or sqlite_url(
            instance_dir / "musicrec.sqlite3"
        )
        model_dir = Path(env.get("MUSICREC_MODEL_DIR") or instance_dir / "models").resolve()
        secret_key = env.get("MUSICREC_SECRET_KEY") or stored_secret_key(instance_dir)
        return cls(
            instance_dir=instance_dir,
            database_url=database_url,
            secret_key=secret_key,
            model_dir=model_dir,
            env=env.get("MUSICREC_ENV", "development"),
        )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def stored_secret_key(instance_dir: Path) -> str:
    """Read the instance's secret key, generating it on first use (never hard-coded)."""
    key_file = instance_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(SECRET_KEY_BYTES)
    # O_EXCL: two processes starting together keep whichever key was written first.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
