"""Settings read from the environment: the Spotify and Last.fm ones."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from musicrec.config import ConfigurationError, Settings


def test_spotify_is_off_without_client_credentials(tmp_path: Path) -> None:
    settings = Settings.from_env({"MUSICREC_INSTANCE_DIR": str(tmp_path)})

    assert not settings.spotify.enabled
    assert settings.spotify.redirect_uri == "http://127.0.0.1:5000/spotify/callback"
    assert settings.spotify.api_url == "https://api.spotify.com/v1/"
    assert settings.spotify.accounts_url == "https://accounts.spotify.com/"
    assert not (tmp_path / "token_key").exists()


def test_the_token_key_is_generated_once_into_the_instance_folder(tmp_path: Path) -> None:
    env = {
        "MUSICREC_INSTANCE_DIR": str(tmp_path),
        "SPOTIFY_CLIENT_ID": "id",
        "SPOTIFY_CLIENT_SECRET": "secret",
        "MUSICREC_SPOTIFY_API_URL": "http://127.0.0.1:1/v1/",
        "LASTFM_API_KEY": "k",
    }

    first, again = Settings.from_env(env), Settings.from_env(env)

    assert first.spotify.enabled and first.spotify.api_url == "http://127.0.0.1:1/v1/"
    assert first.spotify.token_key == again.spotify.token_key
    Fernet(first.spotify.token_key.encode())  # a valid key
    assert stat.S_IMODE((tmp_path / "token_key").stat().st_mode) == 0o600
    assert first.lastfm_api_key == "k"


def test_a_token_key_that_is_not_a_fernet_key_is_refused(tmp_path: Path) -> None:
    env = {
        "MUSICREC_INSTANCE_DIR": str(tmp_path),
        "SPOTIFY_CLIENT_ID": "id",
        "SPOTIFY_CLIENT_SECRET": "secret",
        "MUSICREC_TOKEN_KEY": "not a key",
    }
    settings = Settings.from_env(env)

    with pytest.raises(ConfigurationError, match="MUSICREC_TOKEN_KEY"):
        settings.check()
    replace(settings, spotify=replace(settings.spotify, client_id="")).check()  # off: unchecked


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("https://music.example.org/spotify/callback", True),
        ("http://127.0.0.1:5000/spotify/callback", True),
        ("http://localhost:5000/spotify/callback", False),
        ("http://music.example.org/spotify/callback", False),
    ],
)
def test_the_redirect_uri_must_be_one_spotify_accepts(
    tmp_path: Path, uri: str, accepted: bool
) -> None:
    env = {
        "MUSICREC_INSTANCE_DIR": str(tmp_path),
        "SPOTIFY_CLIENT_ID": "id",
        "SPOTIFY_CLIENT_SECRET": "secret",
        "SPOTIFY_REDIRECT_URI": uri,
    }
    settings = Settings.from_env(env)

    if accepted:
        settings.check()
    else:
        with pytest.raises(ConfigurationError, match="SPOTIFY_REDIRECT_URI"):
            settings.check()


def test_fast_password_hashing_is_a_test_setting_refused_in_production(tmp_path: Path) -> None:
    env = {"MUSICREC_INSTANCE_DIR": str(tmp_path), "MUSICREC_FAST_PASSWORD_HASHING": "1"}
    assert not Settings.from_env({"MUSICREC_INSTANCE_DIR": str(tmp_path)}).fast_password_hashing
    Settings.from_env(env).check()  # development: allowed

    production = {**env, "MUSICREC_ENV": "production", "MUSICREC_SECRET_KEY": "k" * 40}
    with pytest.raises(ConfigurationError, match="MUSICREC_FAST_PASSWORD_HASHING"):
        Settings.from_env(production).check()
