"""Catalogue queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from musicrec.db import artists, ratings, users
from musicrec.db.artists import CatalogueEntry
from musicrec.db.models import Artist


def _artists(session: Session, *names: str) -> list[int]:
    return [artists.add_artist(session, name, None).id for name in names]


def _raters(session: Session, artist_ids: list[int], raters: list[int]) -> None:
    """Give ``artist_ids[i]`` exactly ``raters[i]`` ratings, from users made for the purpose."""
    people = [
        users.add_user(session, f"user{i}", f"user{i}@example.org", "hash").id
        for i in range(max(raters, default=0))
    ]
    for artist_id, count in zip(artist_ids, raters, strict=True):
        for user_id in people[:count]:
            ratings.set_rating(session, user_id, artist_id, 7)


def test_add_artist_folds_the_name_into_its_key(session: Session) -> None:
    artist = artists.add_artist(session, "Sigur Rós", "https://www.last.fm/music/Sigur+R%C3%B3s")

    assert artist.id is not None
    assert (artist.name, artist.name_key) == ("Sigur Rós", "sigur ros")
    assert artist.lastfm_url == "https://www.last.fm/music/Sigur+R%C3%B3s"


def test_get_artist_by_id(session: Session) -> None:
    (bjork,) = _artists(session, "Björk")

    assert artists.get_artist(session, bjork).name == "Björk"  # type: ignore[union-attr]
    assert artists.get_artist(session, bjork + 1) is None


def test_get_artists_returns_those_that_exist(session: Session) -> None:
    air, muse = _artists(session, "Air", "Muse")

    found = artists.get_artists(session, [muse, air + muse + 1, air])

    assert {i: a.name for i, a in found.items()} == {air: "Air", muse: "Muse"}
    assert artists.get_artists(session, []) == {}
    assert artists.get_artists(session, iter(())) == {}


def test_catalogue_entries_count_raters_in_id_order(session: Session) -> None:
    ids = _artists(session, "Keane", "Coldplay", "Muse")
    _raters(session, ids, [2, 0, 3])

    assert artists.catalogue_entries(session) == [
        CatalogueEntry(ids[0], "Keane", 2),
        CatalogueEntry(ids[1], "Coldplay", 0),
        CatalogueEntry(ids[2], "Muse", 3),
    ]


def test_catalogue_version_changes_when_artists_come_and_go(session: Session) -> None:
    empty = artists.catalogue_version(session)
    first, second = _artists(session, "Air", "Muse")
    two = artists.catalogue_version(session)
    session.execute(delete(Artist).where(Artist.id == first))
    one = artists.catalogue_version(session)

    assert empty == (0, 0, 0, 0)
    assert two == (second, 2, 0, 0)
    assert one == (second, 1, 0, 0)


def test_rating_counts_cover_rated_artists_only(session: Session) -> None:
    ids = _artists(session, "A", "B", "C", "D", "E")
    _raters(session, ids, [1, 3, 0, 3, 2])
    a, b, _c, d, e = ids

    artist_ids, counts = ratings.rating_counts(session)
    assert sorted(zip(artist_ids.tolist(), counts.tolist(), strict=True)) == sorted(
        [(a, 1), (b, 3), (d, 3), (e, 2)]
    )


def test_find_by_name_matches_every_artist_sharing_the_folded_name(session: Session) -> None:
    red, wide_red, _blue = _artists(session, "Red", "ＲＥＤ", "Blue")

    assert sorted(a.id for a in artists.find_by_name(session, "  RED ")) == [red, wide_red]
    assert artists.find_by_name(session, "Green") == []
