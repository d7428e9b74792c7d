"""Search-as-you-type over the whole catalogue, in memory.

No database does case-, accent- and punctuation-insensitive prefix *and* fuzzy matching the
same way on PostgreSQL and SQLite, so the catalogue's names are folded once into an index here:
sorted keys answer prefix queries by bisection, a joined string answers substring queries, and
RapidFuzz scores the fuzzy ones. Results are ranked by how they match, then by popularity.
A short prefix ("th") matches thousands of names: they are a contiguous run of the sorted keys,
ranked with NumPy rather than one by one in Python, so such a query costs about what a rare
one does.

The index is shared by every user, so it holds the confirmed catalogue only: a user's own
unconfirmed artists (added or rated by them) are looked up apart for each search and searched
with the same rules in a small index of their own (``with_private``), so other users' additions,
however many, cost a search nothing.

A query with no letter or digit ("!!!", ":(") has no words to match: it is matched on the
folded names with their punctuation kept instead, so every name can be found by typing it.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process

from musicrec.names import fold_name

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_NOT_WORD = re.compile(r"[\W_]+")
FUZZY_CUTOFF = 75.0
REFRESH_SECONDS = 2.0
MAX_LAYERED = 2_000  # additions layered on before the whole index is rebuilt
_LAST_CHAR = chr(0x10FFFF)  # the highest code point

# How a name matched, best first.
EXACT, PREFIX, WORD_PREFIX, SUBSTRING, FUZZY = range(5)


def search_words(text: str) -> str:
    """Folded words without punctuation: "Guns N' Roses" -> "guns n roses"."""
    return " ".join(_NOT_WORD.sub(" ", fold_name(text)).split())


def symbol_key(text: str) -> str:
    """The folded name with its punctuation kept and its spaces dropped: "+ \\-" -> "+\\-"."""
    return "".join(fold_name(text).split())


@dataclass(frozen=True)
class Entry:
    id: int
    name: str
    raters: int
    owner: int | None = None  # an unconfirmed addition: found by the user who added it only
    lastfm_url: str | None = None  # the stored Last.fm link, when the data gave one
    image_url: str | None = None


@dataclass(frozen=True)
class Match:
    id: int
    name: str
    kind: int
    raters: int


class ArtistSearchIndex:
    """An immutable index of (id, name, raters) entries."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        self.words = [search_words(entry.name) for entry in self.entries]
        self.compact = [words.replace(" ", "") for words in self.words]
        # Keys sorted (ties by entry index), with the entry each came from: the names starting
        # with a prefix are one run of them, found by bisection.
        self.compact_keys, self.compact_rows = _sorted_keys(
            (key, i) for i, key in enumerate(self.compact)
        )
        # Names with their punctuation: what a query without letters or digits is matched on.
        self.symbols = [symbol_key(entry.name) for entry in self.entries]
        self.symbol_keys, self.symbol_rows = _sorted_keys(
            (key, i) for i, key in enumerate(self.symbols)
        )
        # Every word start: "the beatles" is found by "beat" ("beatles" is one of its keys).
        self.word_keys, self.word_rows = _sorted_keys(
            (words[start:].replace(" ", ""), i)
            for i, words in enumerate(self.words)
            for start in _word_starts(words)
        )
        self.raters = np.array([entry.raters for entry in self.entries], dtype=np.int64)
        self.lengths = np.array([len(key) for key in self.compact], dtype=np.int64)
        self.owners = {entry.id: entry.owner for entry in self.entries if entry.owner is not None}
        self.by_id = {entry.id: entry for entry in self.entries}
        self.joined = "\n".join(self.compact)
        self.line_starts = [0]
        for key in self.compact[:-1]:
            self.line_starts.append(self.line_starts[-1] + len(key) + 1)

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: str, limit: int = 10, viewer: int | None = None) -> list[Match]:
        """The best ``limit`` matches that ``viewer`` may see (all confirmed artists, and the
        ones they added themselves). Each owned entry costs every search: the shared index
        holds none (``shared_entries``)."""
        found = self._search(query, limit + len(self.owners))
        return [
            match
            for match in found
            if self.owners.get(match.id) is None or self.owners.get(match.id) == viewer
        ][:limit]

    def matches(self, query: str, limit: int = 10) -> list[Match]:
        """The best ``limit`` matches among all the entries, whoever owns them."""
        return self._search(query, limit)

    def _search(self, query: str, limit: int) -> list[Match]:
        words = search_words(query)
        compact = words.replace(" ", "")
        if not compact:
            return self._search_symbols(symbol_key(query), limit)
        found = self._prefix_matches(compact, limit)
        if len(found) < limit:
            found += self._loose_matches(compact, limit, {i for i, _kind in found})
        return [
            Match(self.entries[i].id, self.entries[i].name, kind, self.entries[i].raters)
            for i, kind in found[:limit]
        ]

    def _prefix_matches(self, compact: str, limit: int) -> list[tuple[int, int]]:
        """(entry index, kind) of the names that equal the query, start with it, or have a
        word that starts with it: every one of them when they are fewer than ``limit`` (the
        caller then looks further), else the best ``limit``."""
        low, high = _run(self.compact_keys, compact)
        exact_end = bisect.bisect_right(self.compact_keys, compact, low, high)
        found = [(int(i), EXACT) for i in self._best(self.compact_rows[low:exact_end], limit)]
        found += [
            (int(i), PREFIX)
            for i in self._best(self.compact_rows[exact_end:high], limit - len(found))
        ]
        if len(found) < limit:  # (word prefixes rank after whole-name prefixes)
            word_low, word_high = _run(self.word_keys, compact)
            worded = _first_occurrences(self.word_rows[word_low:word_high])
            worded = worded[~np.isin(worded, self.compact_rows[low:high])]
            found += [(int(i), WORD_PREFIX) for i in self._best(worded, limit - len(found))]
        return found

    def _best(self, rows: np.ndarray, limit: int) -> np.ndarray:
        """The best ``limit`` of ``rows`` (entry indices in the order found): most raters
        first, then the shortest name; ties keep the order found."""
        if limit <= 0 or not len(rows):
            return rows[:0]
        order = np.lexsort((np.arange(len(rows)), self.lengths[rows], -self.raters[rows]))
        return rows[order[:limit]]

    def _loose_matches(self, compact: str, limit: int, taken: set[int]) -> list[tuple[int, int]]:
        """Names that hold the query inside a word, then names close to it by edit distance
        (typos, not fragments: "radiohed"), ranked, none of ``taken``."""
        kinds: dict[int, int] = {}
        closeness: dict[int, float] = {}
        for i in self._containing(compact):
            if i not in taken:
                kinds.setdefault(i, SUBSTRING)
        if len(taken) + len(kinds) < limit and len(compact) >= 3:
            for _key, score, i in process.extract(
                compact, self.compact, scorer=fuzz.ratio, limit=limit, score_cutoff=FUZZY_CUTOFF
            ):
                if i not in kinds and i not in taken:
                    kinds[i], closeness[i] = FUZZY, score
        ranked = sorted(
            kinds.items(),
            key=lambda item: (
                item[1],
                -closeness.get(item[0], 0.0),
                -self.entries[item[0]].raters,
                len(self.compact[item[0]]),
            ),
        )
        return ranked[: limit - len(taken)]

    def _search_symbols(self, symbols: str, limit: int) -> list[Match]:
        """Names starting with these punctuation marks, the exact ones first."""
        if not symbols:
            return []
        low, high = _run(self.symbol_keys, symbols)
        found = self.symbol_rows[low:high].tolist()
        kinds = {i: EXACT if self.symbols[i] == symbols else PREFIX for i in found}
        ranked = sorted(kinds.items(), key=lambda item: (item[1], -self.entries[item[0]].raters))
        return [
            Match(self.entries[i].id, self.entries[i].name, kind, self.entries[i].raters)
            for i, kind in ranked[:limit]
        ]

    def _containing(self, needle: str) -> list[int]:
        found: list[int] = []
        position = self.joined.find(needle)
        while position != -1:
            line = bisect.bisect_right(self.line_starts, position) - 1
            found.append(line)
            position = self.joined.find(needle, self.line_starts[line] + len(self.compact[line]))
        return found


def _sorted_keys(pairs: Iterable[tuple[str, int]]) -> tuple[list[str], np.ndarray]:
    """(key, entry index) pairs sorted: the keys, and the entry index of each."""
    ordered = sorted(pairs)
    return [key for key, _i in ordered], np.array([i for _key, i in ordered], dtype=np.int64)


def _run(keys: list[str], prefix: str) -> tuple[int, int]:
    """Where the keys that start with ``prefix`` lie in the sorted ``keys``: [low, high)."""
    low = bisect.bisect_left(keys, prefix)
    after = _after_prefixed(prefix)
    return low, len(keys) if after is None else bisect.bisect_left(keys, after, low)


def _after_prefixed(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (None: there is none,
    the prefix being all U+10FFFF): its last character that can grow, grown by one."""
    kept = prefix.rstrip(_LAST_CHAR)
    return kept[:-1] + chr(ord(kept[-1]) + 1) if kept else None


def _first_occurrences(rows: np.ndarray) -> np.ndarray:
    """``rows`` without repeats, each where it first appears."""
    _unique, first = np.unique(rows, return_index=True)
    return rows[np.sort(first)]


def _word_starts(words: str) -> list[int]:
    return [0] + [i + 1 for i, char in enumerate(words) if char == " "]


def shared_entries(entries: Iterable[Entry]) -> list[Entry]:
    """The entries every user may find: the confirmed ones (no owner)."""
    return [entry for entry in entries if entry.owner is None]


def with_private(
    found: Sequence[Match], private: Sequence[Entry], query: str, limit: int
) -> list[Match]:
    """The shared index's matches ``found`` joined with the searcher's own unconfirmed
    ``private`` entries matched by the same rules: ranked by how they match, then by raters
    (fuzzy ones keep their order, by closeness), the shared ones first on a tie."""
    if not private:
        return list(found[:limit])
    mine = ArtistSearchIndex(private).matches(query, limit)
    merged = sorted(
        [*found, *mine],  # sorted() is stable: each list keeps its own order on a tie
        key=lambda match: (match.kind, 0 if match.kind == FUZZY else -match.raters),
    )
    return merged[:limit]


class LayeredIndex:
    """A large index built once plus a small one of the artists added since, searched together:
    an addition costs a rebuild of the small index only, not of the whole catalogue's."""

    def __init__(self, base: ArtistSearchIndex, added: Sequence[Entry] = ()) -> None:
        self.base = base
        self.added = list(added)
        self.recent = ArtistSearchIndex(self.added)

    def __len__(self) -> int:
        return len(self.base) + len(self.recent)

    def with_added(self, entries: Sequence[Entry]) -> LayeredIndex:
        return LayeredIndex(self.base, [*self.added, *entries])

    def get(self, artist_id: int) -> Entry | None:
        """The confirmed artist's entry (None for an unconfirmed one, or one not loaded yet)."""
        return self.recent.by_id.get(artist_id) or self.base.by_id.get(artist_id)

    def search(self, query: str, limit: int = 10, viewer: int | None = None) -> list[Match]:
        found = self.base.search(query, limit, viewer)
        if self.added:
            found += self.recent.search(query, limit, viewer)
            found.sort(key=lambda match: match.kind)  # stable: each index keeps its order
        return found[:limit]


class SearchIndexCache:
    """One index per process of the confirmed catalogue, kept in step with it (checked every
    few seconds): artists added since the last check are loaded alone and the confirmed ones
    layered on; anything else that changed the catalogue (a removal, a confirmation, a rename,
    a large batch) rebuilds the whole index."""

    def __init__(
        self,
        load_entries: Callable[[Session], Sequence[Entry]],
        catalogue_version: Callable[[Session], tuple[int, ...]],
        refresh_seconds: float = REFRESH_SECONDS,
        load_entries_after: Callable[[Session, int], Sequence[Entry]] | None = None,
        max_layered: int = MAX_LAYERED,
    ) -> None:
        self._load_entries = load_entries
        self._load_entries_after = load_entries_after
        self._catalogue_version = catalogue_version
        self._refresh_seconds = refresh_seconds
        self._max_layered = max_layered
        self._index: LayeredIndex | None = None
        self._version: tuple[int, ...] | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        self._checked_at = float("-inf")

    def index(self, session: Session) -> LayeredIndex:
        """The index, first checking (with the caller's session) whether the catalogue changed.

        One caller checks at a time; while it does, the others search the index they have
        rather than queue behind it (each would then check again, one after another: at
        saturation a worker's requests all waited 100 to 250 ms every ``refresh_seconds``).
        Only the first index is waited for."""
        current = self._index
        if current is not None and not self._stale():
            return current
        if current is None:
            self._lock.acquire()
        elif not self._lock.acquire(blocking=False):
            return current
        try:
            if self._index is not None and not self._stale():
                return self._index  # checked by another caller meanwhile
            checked_at = time.monotonic()
            version = self._catalogue_version(session)
            if self._index is None or self._version is None:
                self._index = self._built(session)
            elif version != self._version:
                self._index = self._updated(session, self._index, self._version, version)
            self._version = version
            self._checked_at = checked_at
            return self._index
        finally:
            self._lock.release()

    def _stale(self) -> bool:
        return time.monotonic() - self._checked_at >= self._refresh_seconds

    def _updated(
        self,
        session: Session,
        index: LayeredIndex,
        old: tuple[int, ...],
        new: tuple[int, ...],
    ) -> LayeredIndex:
        """Layer the new confirmed artists on when additions are all that changed: the version
        is (highest id, count[, unconfirmed count[, renames]]) and only grew by exactly what
        was loaded (unconfirmed ones included, though the shared index leaves them out); a
        rename (the renames changed) rebuilds."""
        grew = [after - before for before, after in zip(old, new, strict=True)]
        if new[0] > old[0] and grew[1] > 0 and self._load_entries_after is not None:
            added = self._load_entries_after(session, old[0])
            shared = shared_entries(added)
            hidden = len(added) - len(shared)
            fits = len(index.added) + len(shared) <= self._max_layered
            if len(added) == grew[1] and grew[2:] in ([], [hidden], [hidden, 0]) and fits:
                return index.with_added(shared) if shared else index
        return self._built(session)

    def _built(self, session: Session) -> LayeredIndex:
        return LayeredIndex(ArtistSearchIndex(shared_entries(self._load_entries(session))))
