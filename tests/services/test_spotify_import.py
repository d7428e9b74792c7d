"""Importing a Spotify library as ratings: the mapping of signals to 1..10, matching, manual
ratings kept, idempotence, partial failure, a rejected refresh token; and Spotify ratings kept
out of training."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from musicrec.config import Settings, SpotifySettings
from musicrec.db import spotify_links
from musicrec.db.models import Artist, Rating, User
from musicrec.db.ratings import all_ratings, rating_counts, user_rating_pairs
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import UpstreamError
from musicrec.integrations.spotify.authorization import TokenSet
from musicrec.integrations.spotify.web_api import SpotifyArtist, SpotifyTrack
from musicrec.names import fold_name
from musicrec.services import spotify_connection
from musicrec.services.errors import ServiceError
from musicrec.services.spotify_import import (
    LibrarySignals,
    import_library,
    read_library,
    signal_ratings,
    store_ratings,
)
from tests.spotify_fixtures import CLIENT_ID, CLIENT_SECRET, AccountsStandIn


def a(n: int, name: str | None = None) -> SpotifyArtist:
    return SpotifyArtist(f"sp{n}", name or f"Artist {n}", f"https://i.example/{n}.jpg")


def track(n: int, *artists: SpotifyArtist) -> SpotifyTrack:
    return SpotifyTrack(f"t{n}", f"spotify:track:t{n}", f"Song {n}", None, artists)


def test_a_long_term_top_artist_rates_higher_than_a_once_played_one() -> None:
    signals = LibrarySignals(
        top={"long_term": [a(1)] + [a(100 + n) for n in range(40)], "short_term": [a(2)]},
        followed=[a(3)],
        saved=[track(n, a(4)) for n in range(5)] + [track(9, a(5))],
        played=[track(10, a(6))],
    )

    ratings = signal_ratings(signals)

    assert ratings["sp1"] == 10 and ratings["sp2"] == 8 and ratings["sp3"] == 7
    assert ratings["sp4"] == 7 and ratings["sp5"] == 5 and ratings["sp6"] == 4
    assert ratings["sp120"] == 9 and ratings["sp139"] == 8  # ranks 21 and 40
    assert all(1 <= value <= 10 for value in ratings.values())


def test_the_highest_signal_wins() -> None:
    signals = LibrarySignals(followed=[a(1)], top={"long_term": [a(1)]}, played=[track(1, a(1))])

    assert signal_ratings(signals) == {"sp1": 10}


def _signals(*artists: SpotifyArtist) -> LibrarySignals:
    signals = LibrarySignals(followed=list(artists))
    signals.artists = {artist.id: artist for artist in artists}
    return signals


def _user(session: Session, name: str = "ada") -> int:
    return session.execute(
        insert(User).values(username=name, username_key=name).returning(User.id)
    ).scalar_one()


def _artist(session: Session, name: str, spotify_id: str | None = None) -> int:
    return session.execute(
        insert(Artist)
        .values(name=name, name_key=fold_name(name), spotify_id=spotify_id)
        .returning(Artist.id)
    ).scalar_one()


def test_matching_by_spotify_id_then_name_most_rated_wins(session: Session) -> None:
    user, other = _user(session), _user(session, "bob")
    by_id = _artist(session, "Renamed Since", "sp1")
    _artist(session, "Red")
    popular_red = _artist(session, "RED")
    session.execute(insert(Rating).values(user_id=other, artist_id=popular_red, rating=5))

    counts = store_ratings(session, user, _signals(a(1, "Old Name"), a(2, "Red"), a(3, "New")))

    rated = dict(zip(*user_rating_pairs(session, user), strict=True))
    new = session.execute(select(Artist).where(Artist.spotify_id == "sp3")).scalar_one()
    assert set(rated) == {by_id, popular_red, new.id}
    assert session.get(Artist, popular_red).spotify_id is None  # type: ignore[union-attr]
    assert new.image_url == "https://i.example/3.jpg" and not new.confirmed  # the user's own
    assert counts == {
        "added": 1,
        "rated": 3,
        "kept_manual": 0,
        "skipped": 0,
        "refused": 0,
        "over_limit": 0,
    }


def test_manual_ratings_are_kept_and_a_second_import_changes_nothing(session: Session) -> None:
    user = _user(session)
    mine = _artist(session, "Mine", "sp1")
    session.execute(insert(Rating).values(user_id=user, artist_id=mine, rating=2, source="manual"))
    signals = _signals(a(1), a(2))

    first = store_ratings(session, user, signals)
    second = store_ratings(session, user, signals)

    ratings = {r.artist_id: (r.rating, r.source) for r in session.execute(select(Rating)).scalars()}
    assert ratings[mine] == (2, "manual")
    nothing_refused = {"refused": 0, "over_limit": 0}
    assert first == {"added": 1, "rated": 1, "kept_manual": 1, "skipped": 0, **nothing_refused}
    assert second == {"added": 0, "rated": 0, "kept_manual": 1, "skipped": 1, **nothing_refused}
    assert session.execute(select(Artist).where(Artist.spotify_id == "sp2")).scalars().all()


class HalfBroken:
    """A library whose saved tracks cannot be read."""

    def top_artists(self, time_range: str) -> list[SpotifyArtist]:
        return [a(1)] if time_range == "long_term" else []

    def followed_artists(self) -> list[SpotifyArtist]:
        return [a(2)]

    def saved_tracks(self) -> list[SpotifyTrack]:
        raise UpstreamError("GET /me/tracks: answered 503", 503)

    def recently_played(self) -> list[SpotifyTrack]:
        return [track(1, a(3))]


def test_a_section_that_fails_is_reported_and_the_rest_kept() -> None:
    progress: list[float] = []

    signals = read_library(HalfBroken(), progress.append)  # type: ignore[arg-type]

    assert set(signal_ratings(signals)) == {"sp1", "sp2", "sp3"}
    assert signals.not_imported == ["saved tracks: GET /me/tracks: answered 503"]
    assert progress == sorted(progress) and progress[-1] <= 1


def test_spotify_ratings_drive_fold_in_but_never_train_the_shared_model(session: Session) -> None:
    user = _user(session)
    manual, imported = _artist(session, "Manual"), _artist(session, "Imported")
    session.execute(insert(Rating).values(user_id=user, artist_id=manual, rating=8))
    session.execute(
        insert(Rating).values(user_id=user, artist_id=imported, rating=9, source="spotify")
    )

    assert list(all_ratings(session).artist_ids) == [manual]
    assert list(rating_counts(session)[0]) == [manual]
    assert sorted(user_rating_pairs(session, user)[0]) == sorted([manual, imported])


# --- the whole import, with the accounts stand-in --------------------------------------


@pytest.fixture
def spotify_settings(settings: Settings, accounts_standin: AccountsStandIn) -> Settings:
    return replace(
        settings,
        spotify=SpotifySettings(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            accounts_url=accounts_standin.url,
            api_url="http://127.0.0.1:9/v1/",  # never reached in these tests
            token_key=Fernet.generate_key().decode(),
        ),
    )


def _connect(engine: Engine, settings: Settings, refresh_token: str, expired: bool) -> int:
    with transaction(engine) as session:
        user = _user(session)
        expires = utcnow() + (timedelta(seconds=-10) if expired else timedelta(hours=1))
        spotify_connection.store_tokens(
            session,
            settings.spotify,
            user,
            TokenSet("old-access", refresh_token, expires.timestamp(), ""),
            authorized_at=utcnow(),
        )
    return user


def test_a_rejected_refresh_token_disconnects_with_a_message(
    db_engine: Engine, spotify_settings: Settings
) -> None:
    user = _connect(db_engine, spotify_settings, "revoked-refresh-token", expired=True)

    with pytest.raises(spotify_connection.SpotifyDisconnected):
        import_library(db_engine, spotify_settings, user, lambda _p: None)

    with transaction(db_engine) as session:
        view = spotify_connection.status(session, user)
        link = spotify_links.get_link(session, user)
    assert not view.connected and "connect again" in (view.lost_reason or "")
    assert link is not None and link.refresh_token is None and link.access_token is None


def test_the_refresh_token_is_stored_encrypted(
    db_engine: Engine, spotify_settings: Settings
) -> None:
    user = _connect(db_engine, spotify_settings, "refresh-secret-value", expired=False)

    with transaction(db_engine) as session:
        link = spotify_links.get_link(session, user)
    assert link is not None and link.refresh_token is not None
    assert "refresh-secret-value" not in link.refresh_token
    key = Fernet(spotify_settings.spotify.token_key.encode())
    assert key.decrypt(link.refresh_token.encode()) == b"refresh-secret-value"


def test_an_import_without_a_connection_fails_clearly(
    db_engine: Engine, spotify_settings: Settings
) -> None:
    with transaction(db_engine) as session:
        user = _user(session)

    with pytest.raises(ServiceError, match="Connect your Spotify account"):
        import_library(db_engine, spotify_settings, user, lambda _p: None)


def test_spotify_ratings_never_queue_a_retraining(session: Session) -> None:
    from musicrec.db.activity import ratings_changed_since

    user = _user(session)
    imported = _artist(session, "Imported")
    session.execute(
        insert(Rating).values(user_id=user, artist_id=imported, rating=9, source="spotify")
    )

    assert ratings_changed_since(session, None) == 0


def test_two_spotify_artists_sharing_a_name_stay_two(session: Session) -> None:
    user = _user(session)

    store_ratings(session, user, _signals(a(1, "Red"), a(2, "Red")))

    reds = session.execute(select(Artist).where(Artist.name_key == "red")).scalars().all()
    assert sorted(artist.spotify_id for artist in reds) == ["sp1", "sp2"]  # type: ignore[type-var]


def test_a_shared_artist_of_that_name_is_rated_and_left_as_it_is(session: Session) -> None:
    user = _user(session)
    red = _artist(session, "Red")

    store_ratings(session, user, _signals(a(1, "Red"), a(2, "Red")))

    assert session.execute(select(Artist.id)).scalars().all() == [red]
    assert session.get(Artist, red).spotify_id is None  # type: ignore[union-attr]
    assert user_rating_pairs(session, user)[0] == [red]
