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


@pytest.fixture
def ada(session: Session) -> int:
    return users.add_user(session, "ada", "ada@example.org", "hash").id


def test_add_normalises_spaces_and_links_to_lastfm(
    session: Session, catalogue: Catalogue, ada: int
) -> None:
    view, created = catalogue.add(session, "  Sigur \t Rós  ", ada)

    assert created is True
    assert view == ArtistView(view.id, "Sigur Rós", artist_page_url("Sigur Rós"))
    assert catalogue.get(session, view.id, ada) == view
    assert catalogue.get(session, view.id) is None  # the adder's alone until confirmed


def test_add_returns_an_existing_artist_instead_of_a_copy(
    session: Session, catalogue: Catalogue, ada: int
) -> None:
    bjork = _artist(session, "Björk")

    same, created = catalogue.add(session, "Björk", ada)
    folded, folded_created = catalogue.add(session, " BJORK ", ada)

    assert (same.id, created) == (bjork, False)
    assert (folded.id, folded.name, folded_created) == (bjork, "Björk", False)
    assert catalogue.counts(session).artists == 1


def test_add_prefers_the_artist_spelled_exactly_so(
    session: Session, catalogue: Catalogue, ada: int
) -> None:
    _artist(session, "Red")
    wide = _artist(session, "ＲＥＤ")

    view, created = catalogue.add(session, "ＲＥＤ", ada)

    assert (view.id, created) == (wide, False)


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "\u0301\u0308"])
def test_add_refuses_an_empty_name_before_any_query(catalogue: Catalogue, name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        catalogue.add(None, name, 1)  # type: ignore[arg-type]

    assert refused.value.errors == {"name": "Give the artist's name."}


def test_add_refuses_a_name_too_long(session: Session, catalogue: Catalogue, ada: int) -> None:
    longest, _created = catalogue.add(session, "x" * MAX_NAME_LENGTH, ada)

    with pytest.raises(InvalidInput) as refused:
        catalogue.add(session, "y" * (MAX_NAME_LENGTH + 1), ada)

    assert len(longest.name) == MAX_NAME_LENGTH
    assert refused.value.field == "name"
    assert catalogue.counts(session).artists == 1


def test_search_sees_an_artist_as_soon_as_it_is_added(
    session: Session, catalogue: Catalogue, ada: int
) -> None:
    _artist(session, "Portishead")
    before = catalogue.search(session, "radio")

    view, _created = catalogue.add(session, "Radiohead", ada)

    assert before == []
    assert [match.id for match in catalogue.search(session, "radio", viewer=ada)] == [view.id]


def test_search_views_in_rank_order_with_their_links(
    session: Session, catalogue: Catalogue, ada: int
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


def test_get_an_unknown_artist(session: Session, catalogue: Catalogue, ada: int) -> None:
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


def test_an_addition_is_the_adders_until_confirmed_then_everyones(
    session: Session, catalogue: Catalogue, ada: int
) -> None:
    from musicrec.services.catalogue import confirm_additions, pending_additions

    bob = users.add_user(session, "bob", "bob@example.org", "hash").id
    view, _created = catalogue.add(session, "Ólafur Arnalds", ada)
    seen_by_bob = catalogue.search(session, "olafur", viewer=bob)
    bobs_copy, bob_created = catalogue.add(session, "Olafur Arnalds", bob)

    assert seen_by_bob == [] and catalogue.get(session, view.id, bob) is None
    assert bob_created and bobs_copy.id != view.id  # bob cannot see ada's, so adds his own
    assert [(v.id, by) for v, by in pending_additions(session)] == [
        (view.id, ada),
        (bobs_copy.id, bob),
    ]

    assert confirm_additions(session, [view.id]) == 1
    catalogue.search_cache.invalidate()
    assert [m.id for m in catalogue.search(session, "olafur arnalds", viewer=None)] == [view.id]
    assert catalogue.get(session, view.id) == view


def test_a_user_adds_at_most_the_daily_number_of_artists(
    session: Session, catalogue: Catalogue, ada: int
) -> None:
    from musicrec.services.catalogue import MAX_ADDITIONS_PER_DAY
    from musicrec.services.errors import LimitReached

    for number in range(MAX_ADDITIONS_PER_DAY):
        catalogue.add(session, f"Band {number}", ada)
    with pytest.raises(LimitReached):
        catalogue.add(session, "One Too Many", ada)
    existing, created = catalogue.add(session, "Band 3", ada)  # finding one is not adding
    assert not created and existing.name == "Band 3"


def test_ratings_of_unconfirmed_additions_stay_out_of_training_and_popularity(
    session: Session, catalogue: Catalogue, ada: int
) -> None:
    confirmed = _artist(session, "Air")
    added, _created = catalogue.add(session, "My Garage Band", ada)
    ratings.set_rating(session, ada, confirmed, 8)
    ratings.set_rating(session, ada, added.id, 10)

    assert ratings.all_ratings(session).artist_ids.tolist() == [confirmed]
    assert ratings.rating_counts(session)[0].tolist() == [confirmed]


def test_an_artist_view_keeps_only_web_links_to_pictures() -> None:
    from musicrec.services.catalogue import ArtistView
    from musicrec.services.search import Entry

    pictured = ArtistView.of(Entry(1, "Muse", 3, image_url="http://i.scdn.co/image/ab"))
    scripted = ArtistView.of(Entry(2, "Keane", 3, image_url="javascript:alert(1)"))

    assert pictured.image_url == "https://i.scdn.co/image/ab"
    assert scripted.image_url is None and ArtistView.of(Entry(3, "Air", 1)).image_url is None
