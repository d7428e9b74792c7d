"""Artists a Spotify import brings follow the catalogue's rules (issue 18, defect 6).

An artist the catalogue does not know becomes the importer's private addition (as one added by
hand), after the same name checks; bad names are skipped and counted, never fatal (PostgreSQL
refused a 3,000-character name and failed the whole import); a day's new artists are bounded;
a shared artist's picture and Spotify id are never changed by one user's import; a second
listener rates a private artist privately, and enough listeners confirm it for everyone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import users
from musicrec.db.models import Artist, Rating
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import RetryingHttp
from musicrec.integrations.spotify.authorization import TokenSet
from musicrec.integrations.spotify.web_api import SpotifyArtist
from musicrec.names import fold_name
from musicrec.services import ratings, spotify_connection
from musicrec.services.catalogue import MAX_ADDITIONS_PER_DAY, Catalogue
from musicrec.services.popular_artists import PopularArtists
from musicrec.services.spotify_import import (
    LISTENERS_TO_CONFIRM,
    MAX_IMPORTED_ADDITIONS_PER_DAY,
    LibrarySignals,
    import_library,
    store_ratings,
)
from tests.integrations.fake_http import FakeSession
from tests.spotify_fixtures import spotify_on_fake_api

LOOK_ALIKE = "Radiohead\u200b"  # a zero-width space after a real artist's name
BAD_NAMES = [LOOK_ALIKE, "\u202eevil", "bell\x07", "x" * 3000, "Radio\u200dhead"]


def _user(session: Session, name: str) -> int:
    return users.add_user(session, name, f"{name}@example.org", "hash").id


def _shared(session: Session, name: str, spotify_id: str | None = None) -> int:
    """A confirmed (everyone's) artist."""
    return session.execute(
        insert(Artist)
        .values(name=name, name_key=fold_name(name), spotify_id=spotify_id)
        .returning(Artist.id)
    ).scalar_one()


def _signals(*artists: SpotifyArtist) -> LibrarySignals:
    signals = LibrarySignals(followed=list(artists))
    signals.artists = {artist.id: artist for artist in artists}
    return signals


def _by_spotify_id(session: Session, spotify_id: str) -> Artist | None:
    return session.execute(
        select(Artist).where(Artist.spotify_id == spotify_id)
    ).scalar_one_or_none()


def _rated(session: Session, user_id: int) -> set[int]:
    return set(session.execute(select(Rating.artist_id).where(Rating.user_id == user_id)).scalars())


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue(PopularArtists())


def test_an_unknown_artist_is_the_importers_alone(session: Session, catalogue: Catalogue) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")

    counts = store_ratings(
        session, ada, _signals(SpotifyArtist("sp1", "Obscure Band", "https://i.example/1.jpg"))
    )

    new = _by_spotify_id(session, "sp1")
    assert new is not None and not new.confirmed and new.added_by == ada
    assert new.image_url == "https://i.example/1.jpg"  # the importer's own addition may have it
    assert counts["added"] == 1 and _rated(session, ada) == {new.id}
    assert catalogue.get(session, new.id, ada) is not None
    assert catalogue.get(session, new.id, bob) is None and catalogue.get(session, new.id) is None
    assert catalogue.search(session, "Obscure Band", viewer=bob) == []


def test_bad_names_are_skipped_and_counted_and_the_rest_imported(
    db_engine: Engine, settings: Settings
) -> None:
    """The whole job, on both databases: PostgreSQL failed it on the long name."""
    with transaction(db_engine) as session:
        radiohead = _shared(session, "Radiohead")
    library = [(f"bad{n}", name) for n, name in enumerate(BAD_NAMES)] + [("good", "Good Band")]
    user = _connected(db_engine, settings)

    result = import_library(
        db_engine, settings, user, lambda _p: None, http=RetryingHttp(session=_library(library))
    )

    assert result["refused"] == len(BAD_NAMES) and result["added"] == 1 and result["rated"] == 1
    with transaction(db_engine) as session:
        names = set(session.execute(select(Artist.name)).scalars())
        assert _rated(session, user) == {_by_spotify_id(session, "good").id}  # type: ignore[union-attr]
        assert _by_spotify_id(session, "bad0") is None
        assert session.get(Artist, radiohead).spotify_id is None  # type: ignore[union-attr]
    assert names == {"Radiohead", "Good Band"}


def test_a_days_new_artists_are_bounded(session: Session, catalogue: Catalogue) -> None:
    ada = _user(session, "ada")
    extra = 7
    library = [SpotifyArtist(f"sp{n}", f"Band {n}") for n in range(MAX_IMPORTED_ADDITIONS_PER_DAY)]
    later = [SpotifyArtist(f"late{n}", f"Late {n}") for n in range(extra)]

    first = store_ratings(session, ada, _signals(*library[:-3]))
    second = store_ratings(session, ada, _signals(*library, *later))

    assert first["added"] == MAX_IMPORTED_ADDITIONS_PER_DAY - 3 and first["over_limit"] == 0
    assert second["added"] == 3 and second["over_limit"] == extra
    assert _by_spotify_id(session, "late0") is None
    # the import's additions leave the user's own daily additions alone
    for n in range(MAX_ADDITIONS_PER_DAY):
        catalogue.add(session, f"Typed {n}", ada)


def test_an_import_never_changes_a_shared_artist(session: Session) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    radiohead, known = _shared(session, "Radiohead"), _shared(session, "Known", "sp9")
    session.execute(insert(Rating).values(user_id=bob, artist_id=radiohead, rating=9))

    store_ratings(
        session,
        ada,
        _signals(
            SpotifyArtist("sp1", "RADIOHEAD", "https://evil.example/a.jpg"),
            SpotifyArtist("sp9", "Known", "https://evil.example/b.jpg"),
        ),
    )

    shared = session.get(Artist, radiohead)
    assert shared is not None and shared.image_url is None and shared.spotify_id is None
    assert session.get(Artist, known).image_url is None  # type: ignore[union-attr]
    assert _rated(session, ada) == {radiohead, known}  # matched, rated, left as they were


def test_a_second_listener_rates_a_private_artist_privately(
    session: Session, catalogue: Catalogue
) -> None:
    ada, bob, eve = _user(session, "ada"), _user(session, "bob"), _user(session, "eve")
    store_ratings(session, ada, _signals(SpotifyArtist("sp1", "Obscure Band")))

    counts = store_ratings(
        session, bob, _signals(SpotifyArtist("sp1", "Obscure Band", "https://i.example/b.jpg"))
    )

    private = _by_spotify_id(session, "sp1")
    assert private is not None and not private.confirmed and private.added_by == ada
    assert counts["added"] == 0 and _rated(session, bob) == {private.id}
    assert private.image_url is None  # bob's import does not picture ada's addition
    assert catalogue.get(session, private.id, bob) is not None
    assert ratings.rate(session, bob, private.id, 3)[0].rating == 3  # bob may change it
    assert catalogue.get(session, private.id, eve) is None  # nobody else sees it


def test_enough_listeners_confirm_it_for_everyone(session: Session, catalogue: Catalogue) -> None:
    listeners = [_user(session, f"user{n}") for n in range(LISTENERS_TO_CONFIRM)]
    stranger = _user(session, "stranger")

    for number, user in enumerate(listeners, start=1):
        store_ratings(session, user, _signals(SpotifyArtist("sp1", "Rising Band")))
        artist = _by_spotify_id(session, "sp1")
        assert artist is not None and artist.confirmed == (number == LISTENERS_TO_CONFIRM)

    assert catalogue.get(session, artist.id, stranger) is not None


# --- the whole import, against a stand-in for Spotify's Web API -------------------------


def _library(artists: list[tuple[str, str]]) -> FakeSession:
    """A Spotify library that follows these (id, name) artists and has nothing else."""
    items = [{"id": sid, "name": name, "images": []} for sid, name in artists]

    def empty(_m: str, _u: str, _k: dict[str, Any]) -> tuple[int, Any]:
        return 200, {"items": [], "total": 0, "next": None}

    def followed(_m: str, _u: str, _k: dict[str, Any]) -> tuple[int, Any]:
        return 200, {"artists": {"items": items, "next": None, "cursors": {"after": None}}}

    return FakeSession(
        {
            "GET /v1/me/top/artists": empty,
            "GET /v1/me/following": followed,
            "GET /v1/me/tracks": empty,
            "GET /v1/me/player/recently-played": empty,
        }
    )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(
        settings,
        spotify=spotify_on_fake_api(),
    )


def _connected(engine: Engine, settings: Settings) -> int:
    with transaction(engine) as session:
        user = _user(session, "importer")
        tokens = TokenSet("access", "refresh", utcnow().timestamp() + 3600, "")
        spotify_connection.store_tokens(
            session, settings.spotify, user, tokens, authorized_at=utcnow()
        )
    return user
