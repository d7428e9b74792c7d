"""Finding, adding and describing artists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from musicrec.db import artists, queries
from musicrec.db.models import Artist
from musicrec.db.types import utcnow
from musicrec.integrations.lastfm import artist_page_url, checked_page_url
from musicrec.names import MAX_NAME_LENGTH as MAX_NAME_LENGTH  # re-exported: the rule
from musicrec.names import name_problem, tidy_name
from musicrec.services.errors import InvalidInput, LimitReached
from musicrec.services.popular_artists import PopularArtists
from musicrec.services.recomputed import Recomputed
from musicrec.services.search import Entry, Match, SearchIndexCache, with_private

MAX_ADDITIONS_PER_DAY = 20


@dataclass(frozen=True)
class ArtistView:
    id: int
    name: str
    lastfm_url: str | None
    image_url: str | None = None  # the artist's picture, when a Spotify import found one

    @classmethod
    def of(cls, artist: Artist | Entry) -> ArtistView:
        """The view of a database row or of a search index entry (the same fields)."""
        stored = checked_page_url(artist.lastfm_url) if artist.lastfm_url else None
        image = checked_page_url(artist.image_url) if artist.image_url else None
        return cls(artist.id, artist.name, stored or artist_page_url(artist.name), image)


@lru_cache(maxsize=1 << 16)
def _view_of_entry(entry: Entry) -> ArtistView:
    """An index entry's view, made once: entries are immutable, and checking their links on
    every request cost more than the rest of naming a batch."""
    return ArtistView.of(entry)


class Catalogue:
    """The artist catalogue, with a per-process search index kept in step with the database."""

    def __init__(self, popular: PopularArtists) -> None:
        self.search_cache = SearchIndexCache(
            _search_entries, artists.catalogue_version, load_entries_after=_search_entries
        )
        self.popular_artists = popular
        self._counts = Recomputed(queries.catalogue_counts)

    def search(
        self, session: Session, query: str, limit: int = 10, viewer: int | None = None
    ) -> list[Match]:
        """Matches ``viewer`` may see: confirmed artists, and the unconfirmed ones they added or
        rated (``artists.may_see``)."""
        return self._search(session, query, limit, viewer)[0]

    def search_views(
        self, session: Session, query: str, limit: int, viewer: int | None = None
    ) -> list[ArtistView]:
        matches, private = self._search(session, query, limit, viewer)
        found = self.views(session, {match.id for match in matches if match.id not in private})
        found |= {i: ArtistView.of(entry) for i, entry in private.items()}
        return [found[m.id] for m in matches if m.id in found]

    def _search(
        self, session: Session, query: str, limit: int, viewer: int | None
    ) -> tuple[list[Match], dict[int, Entry]]:
        """The matches, and the viewer's unconfirmed artists by id: the shared index holds the
        confirmed catalogue, the viewer's own are read apart (one indexed query)."""
        found = self.search_cache.index(session).search(query, limit)
        if viewer is None:
            return found, {}
        private = _private_entries(session, viewer)
        return with_private(found, private, query, limit), {e.id: e for e in private}

    def views(self, session: Session, artist_ids: set[int]) -> dict[int, ArtistView]:
        """The artists' views, from the in-memory index (no query on the serving path); the
        database answers for any the index does not hold yet (added within the last seconds)."""
        index = self.search_cache.index(session)
        found: dict[int, ArtistView] = {}
        missing: set[int] = set()
        for artist_id in artist_ids:
            entry = index.get(artist_id)
            if entry is None:
                missing.add(artist_id)
            else:
                found[artist_id] = _view_of_entry(entry)
        if missing:
            found |= {i: ArtistView.of(a) for i, a in artists.get_artists(session, missing).items()}
        return found

    def get(self, session: Session, artist_id: int, viewer: int | None = None) -> ArtistView | None:
        """The artist, if ``viewer`` may see it (an unconfirmed one: who added it, and who
        rated it, as a listener whose Spotify import met it)."""
        artist = artists.get_artist(session, artist_id)
        return (
            ArtistView.of(artist) if artist and artists.may_see(session, artist, viewer) else None
        )

    def add(self, session: Session, name: str, user_id: int) -> tuple[ArtistView, bool]:
        """Add an artist missing from the catalogue; an existing one of that name is returned.

        The new artist is the user's alone until the operator confirms it, and a user adds at
        most ``MAX_ADDITIONS_PER_DAY`` a day (``LimitReached``)."""
        name = tidy_name(name)
        problem = name_problem(name)
        if problem is not None:
            raise InvalidInput({"name": problem})
        existing = [a for a in artists.find_by_name(session, name) if _visible(a, user_id)]
        exact = [artist for artist in existing if artist.name == name] or existing
        if exact:
            return ArtistView.of(exact[0]), False
        since = utcnow() - timedelta(days=1)
        if artists.count_added_since(session, user_id, since) >= MAX_ADDITIONS_PER_DAY:
            raise LimitReached(
                f"You can add {MAX_ADDITIONS_PER_DAY} artists a day; try again tomorrow."
            )
        artist = artists.add_artist(session, name, artist_page_url(name), added_by=user_id)
        self.search_cache.invalidate()
        return ArtistView.of(artist), True

    def counts(self, session: Session) -> queries.CatalogueCounts:
        """Users, artists and ratings, recounted at most once a minute."""
        return self._counts.get(session)

    def popular(self, session: Session, limit: int, exclude: list[int]) -> list[ArtistView]:
        """The most-rated artists not in ``exclude``, most rated first."""
        ids = self.popular_artists.top_ids(session, limit, exclude)
        found = artists.get_artists(session, ids)
        return [ArtistView.of(found[i]) for i in ids if i in found]


def _search_entries(session: Session, after_id: int = 0) -> list[Entry]:
    return [
        Entry(e.id, e.name, e.raters, e.owner, e.lastfm_url, e.image_url)
        for e in artists.catalogue_entries(session, after_id)
    ]


def _private_entries(session: Session, viewer: int) -> list[Entry]:
    return [
        Entry(e.id, e.name, e.raters, e.owner, e.lastfm_url, e.image_url)
        for e in artists.private_entries(session, viewer)
    ]


def _visible(artist: Artist, viewer: int | None) -> bool:
    return artist.confirmed or (viewer is not None and artist.added_by == viewer)


def pending_additions(session: Session) -> list[tuple[ArtistView, int | None]]:
    """Artists users added that wait for the operator, with who added each."""
    return [(ArtistView.of(a), a.added_by) for a in artists.unconfirmed_artists(session)]


def confirm_additions(session: Session, artist_ids: list[int]) -> int:
    """Make these additions everyone's (search, pages, training); returns how many changed."""
    return artists.confirm_artists(session, artist_ids)
