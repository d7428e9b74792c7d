"""Import a Spotify library as ratings (a background job).

Signals and the ratings they give (docs/spotify.md explains the choice); an artist seen in
several signals gets the highest:

| signal                              | ranks 1-10 | 11-30 | 31+ |
|-------------------------------------|-----------:|------:|----:|
| top artist, long term (~1 year)     | 10         | 9     | 8   |
| top artist, medium term (~6 months) | 9          | 8     | 7   |
| top artist, short term (~4 weeks)   | 8          | 7     | 6   |
| followed artist                     | 7                        |||
| artist of saved tracks: 1 / 2-4 / 5+ tracks  | 5 / 6 / 7       |||
| artist of recently played: 1 / 2-4 / 5+ plays | 4 / 5 / 6      |||

Artists are matched by Spotify id, then by folded name among the artists the user may see
(several candidates: the most-rated wins); a matched shared artist is rated, never changed by
one import: where Spotify spells its name differently in case or accents only ("Sigur Rós" for
"Sigur Ros"), the import records that spelling, and ``LISTENERS_TO_CONFIRM`` listeners proposing
the same one rename it (``db.spellings``). The others follow the rules of artists a user adds
(``names.name_problem``: printable, bounded length; a bad name is skipped, ``refused``) and
become the user's private additions, a bounded number a day; a listener whose import meets one
rates it privately, and ``LISTENERS_TO_CONFIRM`` listeners (or the operator) make it everyone's.
A rating the user set by hand (or imported from Last.fm) is never overwritten; importing again
changes nothing that did not change on Spotify.
A section Spotify fails to give is reported in ``not_imported`` while the rest is kept.

Imported ratings have source "spotify": the user's own, used for their recommendations by
fold-in, never to train the shared model (Spotify's developer terms).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import artists as artist_rows
from musicrec.db import ratings as rating_rows
from musicrec.db import spellings
from musicrec.db.models import Artist
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import RetryingHttp, UpstreamError
from musicrec.integrations.lastfm import artist_page_url, checked_page_url
from musicrec.integrations.spotify.web_api import SpotifyArtist, SpotifyTrack, SpotifyWebApi
from musicrec.names import fold_name, name_problem, tidy_name
from musicrec.services.errors import ServiceError
from musicrec.services.spotify_connection import EngineTokens, SpotifyDisabled, status

log = logging.getLogger("musicrec.spotify")

TOP_RATINGS = {"long_term": (10, 9, 8), "medium_term": (9, 8, 7), "short_term": (8, 7, 6)}
TOP_BANDS = (10, 30)  # the last rank of each band but the last
FOLLOWED_RATING = 7
SAVED_RATINGS = (5, 6, 7)  # 1, 2-4, 5+ saved tracks
PLAYED_RATINGS = (4, 5, 6)  # 1, 2-4, 5+ recent plays
SECTIONS = (
    ("top artists (long term)", "long_term"),
    ("top artists (medium term)", "medium_term"),
    ("top artists (short term)", "short_term"),
    ("followed artists", "followed"),
    ("saved tracks", "saved"),
    ("recently played", "played"),
)
Progress = Callable[[float], None]
# An artist the catalogue does not know becomes the importer's private addition; it is
# everyone's once this many distinct users have it in their libraries (or the operator says so).
LISTENERS_TO_CONFIRM = 3
# New artists one user's imports may add in a day (a typical library brings about 300);
# the rest are skipped and counted (``over_limit``), the ratings of known artists still written.
MAX_IMPORTED_ADDITIONS_PER_DAY = 500
SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{1,64}")  # base-62 ids (22 characters today)
MAX_PICTURE_URL = 1024  # the image_url column


@dataclass
class LibrarySignals:
    """What was read from Spotify: artists by id, and the lists each section gave."""

    artists: dict[str, SpotifyArtist] = field(default_factory=dict)
    top: dict[str, list[SpotifyArtist]] = field(default_factory=dict)
    followed: list[SpotifyArtist] = field(default_factory=list)
    saved: list[SpotifyTrack] = field(default_factory=list)
    played: list[SpotifyTrack] = field(default_factory=list)
    not_imported: list[str] = field(default_factory=list)


def _by_count(count: int, ratings: tuple[int, int, int]) -> int:
    return ratings[0] if count <= 1 else ratings[1] if count <= 4 else ratings[2]


def _by_rank(rank: int, ratings: tuple[int, int, int]) -> int:
    return (
        ratings[0] if rank <= TOP_BANDS[0] else ratings[1] if rank <= TOP_BANDS[1] else ratings[2]
    )


def signal_ratings(signals: LibrarySignals) -> dict[str, int]:
    """Each artist's rating 1..10: the highest any signal gives it."""
    ratings: dict[str, int] = {}

    def give(artist_id: str, value: int) -> None:
        ratings[artist_id] = max(ratings.get(artist_id, 0), value)

    for time_range, top in signals.top.items():
        for rank, artist in enumerate(top, start=1):
            give(artist.id, _by_rank(rank, TOP_RATINGS[time_range]))
    for artist in signals.followed:
        give(artist.id, FOLLOWED_RATING)
    for tracks, scale in ((signals.saved, SAVED_RATINGS), (signals.played, PLAYED_RATINGS)):
        counts = Counter(artist.id for track in tracks for artist in track.artists)
        for artist_id, count in counts.items():
            give(artist_id, _by_count(count, scale))
    return ratings


def read_library(api: SpotifyWebApi, progress: Progress) -> LibrarySignals:
    """Every section of the library; one that fails (after the retries) is noted, not fatal."""
    signals = LibrarySignals()
    for done, (label, section) in enumerate(SECTIONS):
        try:
            if section in TOP_RATINGS:
                signals.top[section] = api.top_artists(section)
            elif section == "followed":
                signals.followed = api.followed_artists()
            elif section == "saved":
                signals.saved = api.saved_tracks()
            else:
                signals.played = api.recently_played()
        except UpstreamError as error:
            log.warning("spotify import: %s not read: %s", label, error)
            signals.not_imported.append(f"{label}: {error}")
        progress(0.05 + 0.7 * (done + 1) / len(SECTIONS))
    found = [a for top in signals.top.values() for a in top] + signals.followed
    found += [a for track in signals.saved + signals.played for a in track.artists]
    for artist in found:
        known = signals.artists.get(artist.id)
        if known is None or (known.image_url is None and artist.image_url):
            signals.artists[artist.id] = artist
    return signals


def _usable(signals: LibrarySignals, wanted: dict[str, int]) -> dict[str, SpotifyArtist]:
    """The artists whose Spotify id and name pass the catalogue's rules (names tidied), by
    id; the others are skipped (``refused``), never matched by name nor added."""
    usable: dict[str, SpotifyArtist] = {}
    for spotify_id in wanted:
        found = signals.artists[spotify_id]
        name = tidy_name(found.name)
        if SPOTIFY_ID.fullmatch(spotify_id) and name_problem(name) is None:
            usable[spotify_id] = replace(found, name=name)
    return usable


def _picture(url: str | None) -> str | None:
    """Spotify's picture link, if it is a web link that fits the column."""
    checked = checked_page_url(url) if url else None
    return checked if checked and len(checked) <= MAX_PICTURE_URL else None


def store_ratings(session: Session, user_id: int, signals: LibrarySignals) -> dict[str, int]:
    """Match or add the artists and write the ratings; the counts of what happened.

    A match by Spotify id, else by folded name among the artists the user may see, is rated as
    it is: an import never changes a shared artist (its picture, its Spotify id); a spelling of
    its name that differs in case or accents only is recorded as the user's proposal, applied
    once ``LISTENERS_TO_CONFIRM`` users propose it. Any other artist becomes the user's private
    addition, at most ``MAX_IMPORTED_ADDITIONS_PER_DAY`` a day (the strongest signals first;
    the rest ``over_limit``)."""
    wanted = signal_ratings(signals)
    usable = _usable(signals, wanted)
    counts = {"added": 0, "rated": 0, "kept_manual": 0, "skipped": 0}
    counts |= {"refused": len(wanted) - len(usable), "over_limit": 0}
    by_id = artist_rows.by_spotify_ids(session, usable)
    keys = {fold_name(found.name) for sid, found in usable.items() if sid not in by_id}
    by_name = artist_rows.most_rated_by_name_keys(session, keys, user_id)
    since = utcnow() - timedelta(days=1)
    room = MAX_IMPORTED_ADDITIONS_PER_DAY - artist_rows.count_added_since(
        session, user_id, since, imported=True
    )
    catalogue_ratings: dict[int, int] = {}
    touched: dict[int, Artist] = {}
    respelled: dict[int, str] = {}
    for spotify_id in sorted(usable, key=lambda sid: -wanted[sid]):  # stable: strongest first
        found, value = usable[spotify_id], wanted[spotify_id]
        artist = by_id.get(spotify_id) or by_name.get(fold_name(found.name))
        if artist is not None and artist.spotify_id not in (None, spotify_id):
            artist = None  # its name twin in this import took it: a different artist
        if artist is None:
            if room <= 0:
                counts["over_limit"] += 1
                continue
            artist = artist_rows.add_spotify_artist(
                session,
                found.name,
                spotify_id,
                _picture(found.image_url),
                artist_page_url(found.name),
                added_by=user_id,
            )
            room -= 1
            counts["added"] += 1
        elif not artist.confirmed and artist.added_by == user_id:  # the user's own addition
            artist.spotify_id = artist.spotify_id or spotify_id
            artist.image_url = artist.image_url or _picture(found.image_url)
        elif artist.confirmed and _respelled(artist, found.name):
            respelled[artist.id] = found.name  # a proposal: it renames nothing on its own
        touched[artist.id] = artist
        catalogue_ratings[artist.id] = max(catalogue_ratings.get(artist.id, 0), value)
    session.flush()
    existing = rating_rows.ratings_of_artists(session, user_id, list(catalogue_ratings))
    for artist_id, value in catalogue_ratings.items():
        current = existing.get(artist_id)
        if current is not None and current[1] != "spotify":
            counts["kept_manual"] += 1
        elif current is not None and current[0] == value:
            counts["skipped"] += 1  # already imported with this rating
        else:
            rating_rows.set_rating(session, user_id, artist_id, value, source="spotify")
            counts["rated"] += 1
    session.flush()
    private = [artist.id for artist in touched.values() if not artist.confirmed]
    artist_rows.confirm_when_rated_by(session, private, LISTENERS_TO_CONFIRM)
    spellings.record_proposals(session, user_id, respelled)
    spellings.apply_agreed(session, respelled, LISTENERS_TO_CONFIRM)
    return counts


def _respelled(artist: Artist, name: str) -> bool:
    """Whether Spotify's (tidied) ``name`` spells the artist differently but only in case,
    accents or width (the same folded name): another name is never proposed."""
    return name != artist.name and fold_name(name) == artist.name_key


def import_library(
    engine: Engine,
    settings: Settings,
    user_id: int,
    progress: Progress,
    http: RetryingHttp | None = None,
) -> dict[str, Any]:
    """Read the user's library from Spotify, then write it as ratings in one transaction."""
    if not settings.spotify.enabled:
        raise SpotifyDisabled("Spotify is not configured on this server.")
    with transaction(engine) as session:
        if not status(session, user_id).connected:
            raise ServiceError("Connect your Spotify account first.")
    http = http or RetryingHttp()
    api = SpotifyWebApi(
        settings.spotify.api_url, EngineTokens(engine, settings.spotify, user_id), http
    )
    progress(0.02)
    signals = read_library(api, progress)
    if len(signals.not_imported) == len(SECTIONS):
        raise ServiceError("Spotify could not be read: " + "; ".join(signals.not_imported))
    try:
        with transaction(engine) as session:
            counts = store_ratings(session, user_id, signals)
    except IntegrityError:  # another import added one of these artists at the same moment
        log.info("spotify import of user %s raced another: writing again", user_id)
        with transaction(engine) as session:
            counts = store_ratings(session, user_id, signals)
    progress(1.0)
    result: dict[str, Any] = {**counts, "requests": http.sent}
    if signals.not_imported:
        result["not_imported"] = signals.not_imported
    return result
