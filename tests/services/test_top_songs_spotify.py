"""Top songs and the playlist from Spotify alone (no Last.fm key): one search with the
``artist:`` filter, kept to the artist's own tracks, most popular first. The search goes to
Prism serving Spotify's published contract, so a request that breaks it fails the test."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert, select, update

from musicrec.config import Settings
from musicrec.db import recommendations as stored
from musicrec.db import users
from musicrec.db.models import Artist, TopSong
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.integrations.spotify.authorization import TokenSet
from musicrec.integrations.spotify.web_api import SpotifyArtist, SpotifyTrack, SpotifyWebApi
from musicrec.services import spotify_connection
from musicrec.services.playlists import save_playlist
from musicrec.services.top_songs import own_tracks, top_songs
from tests.spotify_fixtures import AccountsStandIn, LastfmStandIn, spotify_on


def _track(n: int, title: str, popularity: int, *artists: SpotifyArtist) -> SpotifyTrack:
    return SpotifyTrack(f"t{n}", f"spotify:track:t{n}", title, None, artists, popularity)


SIGUR = SpotifyArtist("6UUrUCIZtQeOf8tC0WuzRy", "Sigur Rós")
TRIBUTE = SpotifyArtist("0000000000000000000001", "Sigur Rós Tribute Band")
NAMESAKE = SpotifyArtist("0000000000000000000002", "SIGUR ROS")


def test_the_linked_artists_tracks_most_popular_first_one_per_title() -> None:
    found = [
        _track(1, "Svefn-g-englar", 55, SIGUR),
        _track(2, "Hoppípolla", 70, SIGUR),
        _track(3, "Hoppipolla (cover)", 90, TRIBUTE),
        _track(4, "Hoppípolla", 40, SIGUR),  # the same song on a best-of
        _track(5, "Glósóli", 60, NAMESAKE, SIGUR),  # a duet credits both
        _track(6, "Starálfur", 20, SIGUR),
    ]

    chosen = own_tracks(found, "Sigur Rós", SIGUR.id)

    assert [track.id for track in chosen] == ["t2", "t5", "t1"]


def test_an_unlinked_artist_is_matched_by_its_folded_name() -> None:
    found = [
        _track(1, "Hoppípolla", 70, SIGUR),
        _track(2, "Cover", 90, TRIBUTE),
        _track(3, "Glósóli", 80, NAMESAKE),
    ]

    chosen = own_tracks(found, "sigur ros", None)

    # Both artists whose names fold to "sigur ros"; never the tribute band.
    assert [track.id for track in chosen] == ["t3", "t1"]
    assert own_tracks(found, "Björk", None) == []
    assert own_tracks([], "Sigur Rós", SIGUR.id) == []


class _StaticTokens:
    def access_token(self) -> str:
        return "prism-token"

    def refreshed_token(self) -> str:
        return "prism-token"


def contract_track_artist(prism_url: str) -> SpotifyArtist:
    """The artist credited on the tracks the contract's search example answers: the Spotify
    id a catalogue artist must carry for those tracks to be its own."""
    found = SpotifyWebApi(prism_url, _StaticTokens()).search_artist_tracks("anyone")
    assert found and found[0].artists, "the contract's search example has no credited artist"
    return found[0].artists[0]


@pytest.fixture
def spotify_alone(
    settings: Settings, accounts_standin: AccountsStandIn, prism_url: str
) -> Settings:
    """Spotify configured and pointing at Prism; no Last.fm key."""
    return replace(settings, spotify=spotify_on(accounts_standin.url, prism_url))


def _connected_user(engine: Engine, settings: Settings) -> int:
    with transaction(engine) as session:
        user = users.add_user(session, "ada", "ada@example.org", "hash").id
        expires = utcnow() + timedelta(hours=1)
        spotify_connection.store_tokens(
            session,
            settings.spotify,
            user,
            TokenSet("access", "refresh", expires.timestamp(), ""),
            authorized_at=utcnow(),
        )
    return user


def _artist(engine: Engine, name: str, spotify_id: str | None = None) -> int:
    with engine.begin() as connection:
        return connection.execute(
            insert(Artist)
            .values(name=name, name_key=name.casefold(), spotify_id=spotify_id)
            .returning(Artist.id)
        ).scalar_one()


def test_a_connected_user_gets_top_songs_from_spotify_search_without_lastfm(
    db_engine: Engine, spotify_alone: Settings, prism_url: str, lastfm_standin: LastfmStandIn
) -> None:
    assert not spotify_alone.lastfm_api_key
    credited = contract_track_artist(prism_url)
    linked = _artist(db_engine, "Linked", credited.id)
    by_name = _artist(db_engine, credited.name.upper())  # not linked: matched by name
    other = _artist(db_engine, "Someone Spotify does not credit")
    user = _connected_user(db_engine, spotify_alone)

    songs = top_songs(db_engine, spotify_alone, linked, user)
    named = top_songs(db_engine, spotify_alone, by_name, user)
    nobody = top_songs(db_engine, spotify_alone, other, user)

    assert songs and all(song.spotify_uri for song in songs)
    assert named == songs
    assert nobody == []  # the answer's tracks are another artist's: none kept
    assert top_songs(db_engine, spotify_alone, linked, None) is None  # not connected: no source
    with transaction(db_engine) as session:
        cached = session.execute(select(TopSong.spotify_uri).where(TopSong.artist_id == linked))
        assert list(cached.scalars()) == [song.spotify_uri for song in songs]
    assert lastfm_standin.requests == []


def test_the_playlist_is_saved_with_spotify_alone(
    db_engine: Engine, spotify_alone: Settings, prism_url: str
) -> None:
    """No artist linked to Spotify (a new catalogue): found by name through search."""
    credited = contract_track_artist(prism_url)
    named = _artist(db_engine, credited.name)
    unknown = _artist(db_engine, "Someone Spotify does not credit")
    user = _connected_user(db_engine, spotify_alone)
    with transaction(db_engine) as session:
        stored.add_recommendations(
            session,
            user,
            [stored.NewRecommendation(unknown, 0.9), stored.NewRecommendation(named, 0.8)],
            "v1",
        )

    saved = save_playlist(db_engine, spotify_alone, user)

    assert saved.id and saved.tracks >= 1


def test_an_artist_with_no_songs_found_is_not_searched_again_until_stale(
    db_engine: Engine, spotify_alone: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page that shows the artist asks for its songs: "none found" is cached too."""
    searched: list[str] = []
    search = SpotifyWebApi.search_artist_tracks

    def counted(api: SpotifyWebApi, name: str) -> list[SpotifyTrack]:
        searched.append(name)
        return search(api, name)

    monkeypatch.setattr(SpotifyWebApi, "search_artist_tracks", counted)
    other = _artist(db_engine, "Someone Spotify does not credit")
    user = _connected_user(db_engine, spotify_alone)

    assert top_songs(db_engine, spotify_alone, other, user) == []
    assert top_songs(db_engine, spotify_alone, other, user) == []
    assert len(searched) == 1

    with transaction(db_engine) as session:  # a week later: looked up again
        session.execute(
            update(TopSong)
            .where(TopSong.artist_id == other)
            .values(fetched_at=utcnow() - timedelta(days=8))
        )
    assert top_songs(db_engine, spotify_alone, other, user) == []
    assert len(searched) == 2
