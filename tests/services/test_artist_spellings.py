"""Spotify's spelling of a shared artist replaces the starter data's once enough listeners'
imports agree (issue 21), never on one user's word (issue 18's trust rule), on both databases.

Only case, accents and such may change ("Sigur Ros" -> "Sigur Rós"): a spelling that folds to
another name (Spotify's "Kesha" for "Ke$Ha") is never recorded. The search index and the
catalogue's names show the new spelling after their refresh.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import users
from musicrec.db.models import Artist, ArtistSpelling
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import RetryingHttp
from musicrec.integrations.spotify.authorization import TokenSet
from musicrec.integrations.spotify.web_api import SpotifyArtist
from musicrec.names import fold_name
from musicrec.services import search, spotify_connection
from musicrec.services.catalogue import Catalogue
from musicrec.services.erasure import erase_account
from musicrec.services.popular_artists import PopularArtists
from musicrec.services.spotify_import import (
    LISTENERS_TO_CONFIRM,
    LibrarySignals,
    import_library,
    store_ratings,
)
from tests.services.conftest import SearchClock
from tests.services.test_spotify_import_rules import _library
from tests.spotify_fixtures import spotify_on_fake_api


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue(PopularArtists())


def _user(session: Session, name: str) -> int:
    return users.add_user(session, name, f"{name}@example.org", "hash").id


def _shared(session: Session, name: str, spotify_id: str | None = None) -> int:
    """A confirmed (everyone's) artist, as the starter data spells it."""
    return session.execute(
        insert(Artist)
        .values(name=name, name_key=fold_name(name), spotify_id=spotify_id)
        .returning(Artist.id)
    ).scalar_one()


def _import(session: Session, user_id: int, spotify_id: str, name: str) -> dict[str, int]:
    """The user's Spotify import of a library that follows this one artist."""
    signals = LibrarySignals(followed=[SpotifyArtist(spotify_id, name)])
    signals.artists = {spotify_id: signals.followed[0]}
    return store_ratings(session, user_id, signals)


def _name(session: Session, artist_id: int) -> str:
    return session.execute(select(Artist.name).where(Artist.id == artist_id)).scalar_one()


def _votes(session: Session) -> list[tuple[int, int, str]]:
    rows = session.execute(
        select(ArtistSpelling.artist_id, ArtistSpelling.user_id, ArtistSpelling.spelling)
    )
    return sorted((artist_id, user_id, spelling) for artist_id, user_id, spelling in rows)


def _found(catalogue: Catalogue, session: Session, query: str) -> list[str]:
    return [match.name for match in catalogue.search(session, query)]


# --- the whole import job, against a stand-in for Spotify's Web API ---------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(
        settings,
        spotify=spotify_on_fake_api(),
    )


def _connected(engine: Engine, settings: Settings, name: str) -> int:
    with transaction(engine) as session:
        user = _user(session, name)
        tokens = TokenSet("access", "refresh", utcnow().timestamp() + 3600, "")
        spotify_connection.store_tokens(
            session, settings.spotify, user, tokens, authorized_at=utcnow()
        )
    return user


def test_three_listeners_spelling_replaces_the_starter_datas_and_search_shows_it(
    db_engine: Engine, settings: Settings, catalogue: Catalogue, clock: SearchClock
) -> None:
    with transaction(db_engine) as session:
        sigur = _shared(session, "Sigur Ros")
        assert _found(catalogue, session, "sigur") == ["Sigur Ros"]  # the index is built
    listeners = [_connected(db_engine, settings, f"fan{n}") for n in range(LISTENERS_TO_CONFIRM)]

    for number, user in enumerate(listeners, start=1):
        http = RetryingHttp(session=_library([("sp1", "Sigur  Rós ")]))  # tidied: "Sigur Rós"
        result = import_library(db_engine, settings, user, lambda _p: None, http=http)
        assert result["rated"] == 1 and result["added"] == 0
        with transaction(db_engine) as session:
            expected = "Sigur Rós" if number == LISTENERS_TO_CONFIRM else "Sigur Ros"
            assert _name(session, sigur) == expected, f"after listener {number}"

    with transaction(db_engine) as session:
        clock.now += search.REFRESH_SECONDS  # the index's next check
        assert _found(catalogue, session, "sigur") == ["Sigur Rós"]
        assert _found(catalogue, session, "Sigur Rós") == ["Sigur Rós"]
        assert catalogue.views(session, {sigur})[sigur].name == "Sigur Rós"
        assert catalogue.search_cache.index(session).get(sigur).name == "Sigur Rós"  # type: ignore[union-attr]


# --- the rule, one import at a time -----------------------------------------------------


def test_two_listeners_are_not_enough(session: Session, catalogue: Catalogue) -> None:
    sigur = _shared(session, "Sigur Ros")
    ada, bob = _user(session, "ada"), _user(session, "bob")

    _import(session, ada, "sp1", "Sigur Rós")
    _import(session, bob, "sp1", "Sigur Rós")
    _import(session, bob, "sp1", "Sigur Rós")  # importing again is still one vote

    assert _name(session, sigur) == "Sigur Ros"
    assert _votes(session) == [(sigur, ada, "Sigur Rós"), (sigur, bob, "Sigur Rós")]
    catalogue.search_cache.invalidate()
    assert _found(catalogue, session, "sigur") == ["Sigur Ros"]


def test_a_rename_rebuilds_the_index_when_invalidated(
    session: Session, catalogue: Catalogue
) -> None:
    sigur = _shared(session, "Sigur Ros")
    assert _found(catalogue, session, "sigur") == ["Sigur Ros"]

    for n in range(LISTENERS_TO_CONFIRM):
        _import(session, _user(session, f"fan{n}"), "sp1", "Sigur Rós")
    catalogue.search_cache.invalidate()

    assert _name(session, sigur) == "Sigur Rós"
    assert _found(catalogue, session, "sigur ros") == ["Sigur Rós"]


def test_different_spellings_each_need_their_own_listeners(session: Session) -> None:
    sigur = _shared(session, "Sigur Ros")

    for n, spelling in enumerate(["Sigur Rós", "SIGUR RÓS", "Sigur Rós", "sigur rós"]):
        _import(session, _user(session, f"fan{n}"), "sp1", spelling)

    assert _name(session, sigur) == "Sigur Ros"  # no spelling has 3 listeners yet
    _import(session, _user(session, "third"), "sp1", "Sigur Rós")
    assert _name(session, sigur) == "Sigur Rós"


def test_a_spelling_that_folds_differently_is_never_recorded_nor_applied(
    session: Session,
) -> None:
    kesha = _shared(session, "Ke$Ha", spotify_id="sp2")
    fans = [_user(session, f"fan{n}") for n in range(LISTENERS_TO_CONFIRM + 1)]

    for fan in fans:
        counts = _import(session, fan, "sp2", "Kesha")  # matched by Spotify id
        assert counts["rated"] == 1

    assert _name(session, kesha) == "Ke$Ha"
    assert _votes(session) == []


def test_a_deleted_voters_vote_goes_with_their_account(session: Session) -> None:
    sigur = _shared(session, "Sigur Ros")
    ada, bob, eve, max_ = (_user(session, name) for name in ("ada", "bob", "eve", "max"))
    _import(session, ada, "sp1", "Sigur Rós")
    _import(session, bob, "sp1", "Sigur Rós")

    erase_account(session, bob)
    assert _votes(session) == [(sigur, ada, "Sigur Rós")]
    _import(session, eve, "sp1", "Sigur Rós")
    assert _name(session, sigur) == "Sigur Ros"  # ada and eve: two votes

    _import(session, max_, "sp1", "Sigur Rós")
    assert _name(session, sigur) == "Sigur Rós"


def test_a_users_own_private_addition_is_unaffected(session: Session, catalogue: Catalogue) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    mine = catalogue.add(session, "sigur ros", ada)[0].id

    _import(session, ada, "sp1", "Sigur Rós")  # matched by name: ada's own, kept as she typed
    _import(session, bob, "sp1", "Sigur Rós")  # matched by its Spotify id: ada's, not shared

    artist = session.get(Artist, mine)
    assert artist is not None and not artist.confirmed and artist.spotify_id == "sp1"
    assert artist.name == "sigur ros" and artist.renames == 0
    assert _votes(session) == []


# --- the index's fast path stays for additions ------------------------------------------


def test_additions_alone_are_still_layered_on_and_a_rename_rebuilds(
    session: Session, catalogue: Catalogue, clock: SearchClock
) -> None:
    sigur = _shared(session, "Sigur Ros")
    built = catalogue.search_cache.index(session)

    _shared(session, "Mogwai")
    clock.now += search.REFRESH_SECONDS
    layered = catalogue.search_cache.index(session)
    assert layered.base is built.base and len(layered.added) == 1  # no rebuild

    for n in range(LISTENERS_TO_CONFIRM):
        _import(session, _user(session, f"fan{n}"), "sp1", "Sigur Rós")
    _shared(session, "Múm")  # an addition in the same interval as the rename
    clock.now += search.REFRESH_SECONDS
    rebuilt = catalogue.search_cache.index(session)

    assert rebuilt.base is not built.base and rebuilt.added == []
    assert rebuilt.get(sigur).name == "Sigur Rós"  # type: ignore[union-attr]
    assert _found(catalogue, session, "mum") == ["Múm"]
