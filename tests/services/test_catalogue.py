"""The catalogue service: finding, adding, counting and suggesting artists."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from musicrec.db import artists, ratings, users
from musicrec.db.queries import CatalogueCounts
from musicrec.integrations.lastfm import artist_page_url
from musicrec.services.catalogue import MAX_NAME_LENGTH, ArtistView, Catalogue
from musicrec.services.errors import InvalidInput
from musicrec.services.popular_artists import PopularArtists


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue(PopularArtists())


def _artist(session: Session, name: str, url: str | None = None) -> int:
    return artists.add_artist(session, name, url).id


def test_add_normalises_spaces_and_links_to_lastfm(session: Session, catalogue: Catalogue) -> None:
    view, created = catalogue.add(session, "  Sigur \t Rós  ")

    assert created is True
    assert view == ArtistView(view.id, "Sigur Rós", artist_page_url("Sigur Rós"))
    assert catalogue.get(session, view.id) == view


def test_add_returns_an_existing_artist_instead_of_a_copy(
    session: Session, catalogue: Catalogue
) -> None:
    bjork = _artist(session, "Björk")

    same, created = catalogue.add(session, "Björk")
    folded, folded_created = catalogue.add(session, " BJORK ")

    assert (same.id, created) == (bjork, False)
    assert (folded.id, folded.name, folded_created) == (bjork, "Björk", False)
    assert catalogue.counts(session).artists == 1


def test_add_prefers_the_artist_spelled_exactly_so(session: Session, catalogue: Catalogue) -> None:
    _artist(session, "Red")
    wide = _artist(session, "ＲＥＤ")

    view, created = catalogue.add(session, "ＲＥＤ")

    assert (view.id, created) == (wide, False)


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "\u0301\u0308"])
def test_add_refuses_an_empty_name_before_any_query(catalogue: Catalogue, name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        catalogue.add(None, name)  # type: ignore[arg-type]

    assert refused.value.errors == {"name": "Give the artist's name."}


def test_add_refuses_a_name_too_long(session: Session, catalogue: Catalogue) -> None:
    longest, _created = catalogue.add(session, "x" * MAX_NAME_LENGTH)

    with pytest.raises(InvalidInput) as refused:
        catalogue.add(session, "y" * (MAX_NAME_LENGTH + 1))

    assert len(longest.name) == MAX_NAME_LENGTH
    assert refused.value.field == "name"
    assert catalogue.counts(session).artists == 1


def test_search_sees_an_artist_as_soon_as_it_is_added(
    session: Session, catalogue: Catalogue
) -> None:
    _artist(session, "Portishead")
    before = catalogue.search(session, "radio")

    view, _created = catalogue.add(session, "Radiohead")

    assert before == []
    assert [match.id for match in catalogue.search(session, "radio")] == [view.id]


def test_search_views_in_rank_order_with_their_links(
    session: Session, catalogue: Catalogue
) -> None:
    motorhead = _artist(session, "Motörhead", "https://example.org/motorhead")
    head = _artist(session, "Head Automatica")
    _artist(session, "Air")

    found = catalogue.search_views(session, "head", 5)

    assert found == [
        ArtistView(head, "Head Automatica", artist_page_url("Head Automatica")),
        ArtistView(motorhead, "Motörhead", "https://example.org/motorhead"),
    ]
    assert catalogue.search_views(session, "head", 1) == found[:1]
    assert catalogue.search_views(session, "   ", 5) == []


def test_get_an_unknown_artist(session: Session, catalogue: Catalogue) -> None:
    assert catalogue.get(session, 12345) is None


def test_counts_and_popular_with_exclusions(session: Session, catalogue: Catalogue) -> None:
    air, muse, keane, _coldplay = (
        _artist(session, n) for n in ("Air", "Muse", "Keane", "Coldplay")
    )
    people = [users.add_user(session, f"u{i}", f"u{i}@example.org", "hash").id for i in range(3)]
    for artist, raters in ((air, 1), (muse, 3), (keane, 2)):
        for user_id in people[:raters]:
            ratings.set_rating(session, user_id, artist, 8)

    assert catalogue.counts(session) == CatalogueCounts(users=3, artists=4, ratings=6)
    assert [v.name for v in catalogue.popular(session, 10, [])] == ["Muse", "Keane", "Air"]
    assert [v.name for v in catalogue.popular(session, 10, [muse])] == ["Keane", "Air"]
    assert [v.name for v in catalogue.popular(session, 1, [keane])] == ["Muse"]


def test_a_stored_link_that_is_not_a_web_link_is_never_shown() -> None:
    from musicrec.db.models import Artist

    crafted = Artist(id=7, name="Air", name_key="air", lastfm_url="javascript:alert(1)")
    plain = Artist(id=8, name="Muse", name_key="muse", lastfm_url="http://www.last.fm/music/Muse")

    assert ArtistView.of(crafted).lastfm_url == "https://www.last.fm/music/Air"
    assert ArtistView.of(plain).lastfm_url == "https://www.last.fm/music/Muse"
