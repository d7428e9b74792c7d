"""Finding, adding and describing artists."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from musicrec.db import artists, queries
from musicrec.db.models import Artist
from musicrec.integrations.lastfm import artist_page_url, checked_page_url
from musicrec.names import fold_name, has_unprintable
from musicrec.services.errors import InvalidInput
from musicrec.services.popular_artists import PopularArtists
from musicrec.services.recomputed import Recomputed
from musicrec.services.search import Entry, Match, SearchIndexCache

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class ArtistView:
    id: int
    name: str
    lastfm_url: str | None

    @classmethod
    def of(cls, artist: Artist) -> ArtistView:
        stored = checked_page_url(artist.lastfm_url) if artist.lastfm_url else None
        return cls(artist.id, artist.name, stored or artist_page_url(artist.name))


class Catalogue:
    """The artist catalogue, with a per-process search index kept in step with the database."""

    def __init__(self, popular: PopularArtists) -> None:
        self.search_cache = SearchIndexCache(_search_entries, artists.catalogue_version)
        self.popular_artists = popular
        self._counts = Recomputed(queries.catalogue_counts)

    def search(self, session: Session, query: str, limit: int = 10) -> list[Match]:
        return self.search_cache.index(session).search(query, limit)

    def search_views(self, session: Session, query: str, limit: int) -> list[ArtistView]:
        matches = self.search(session, query, limit)
        found = artists.get_artists(session, [match.id for match in matches])
        return [ArtistView.of(found[m.id]) for m in matches if m.id in found]

    def get(self, session: Session, artist_id: int) -> ArtistView | None:
        artist = artists.get_artist(session, artist_id)
        return ArtistView.of(artist) if artist else None

    def add(self, session: Session, name: str) -> tuple[ArtistView, bool]:
        """Add an artist missing from the catalogue; an existing one of that name is returned."""
        name = " ".join(name.split())
        if not name or not fold_name(name):
            raise InvalidInput({"name": "Give the artist's name."})
        if has_unprintable(name):
            raise InvalidInput(
                {"name": "Use visible characters only (no control or format characters)."}
            )
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidInput({"name": f"Use at most {MAX_NAME_LENGTH} characters."})
        existing = artists.find_by_name(session, name)
        exact = [artist for artist in existing if artist.name == name] or existing
        if exact:
            return ArtistView.of(exact[0]), False
        artist = artists.add_artist(session, name, artist_page_url(name))
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


def _search_entries(session: Session) -> list[Entry]:
    return [Entry(e.id, e.name, e.raters) for e in artists.catalogue_entries(session)]
