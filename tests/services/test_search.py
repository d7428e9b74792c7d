"""The in-memory artist search index and its per-process cache, on hand-made entries."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from musicrec.datasets import load_lastfm
from musicrec.services import search
from musicrec.services.search import (
    EXACT,
    FUZZY,
    PREFIX,
    SUBSTRING,
    WORD_PREFIX,
    ArtistSearchIndex,
    Entry,
    LayeredIndex,
    SearchIndexCache,
    search_words,
)
from tests.services.conftest import SearchClock

ENTRIES = [
    Entry(1, "Radiohead", 50),
    Entry(2, "Radio Dept", 7),
    Entry(3, "Portishead", 30),
    Entry(4, "Head Automatica", 2),
    Entry(5, "Motörhead", 40),
    Entry(6, "The Beatles", 90),
    Entry(7, "Guns N' Roses", 60),
    Entry(8, "ＲＥＤ", 1),
    Entry(9, "Red", 3),
    Entry(10, "Sigur Rós", 20),
]


@pytest.fixture
def index() -> ArtistSearchIndex:
    return ArtistSearchIndex(ENTRIES)


def _found(index: ArtistSearchIndex, query: str, limit: int = 10) -> list[tuple[str, int]]:
    return [(match.name, match.kind) for match in index.search(query, limit)]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Guns N' Roses", "guns n roses"),
        ("ＲＥＤ", "red"),
        ("Sigur Rós", "sigur ros"),
        ("AC/DC", "ac dc"),
        ("  Boards_of   Canada!  ", "boards of canada"),
    ],
)
def test_search_words_fold_and_drop_punctuation(text: str, words: str) -> None:
    assert search_words(text) == words


def test_prefixes_rank_by_popularity(index: ArtistSearchIndex) -> None:
    assert _found(index, "radio") == [("Radiohead", PREFIX), ("Radio Dept", PREFIX)]


def test_an_exact_name_comes_before_longer_names(index: ArtistSearchIndex) -> None:
    assert _found(index, "radio dept") == [("Radio Dept", EXACT)]
    assert _found(index, "radiodept") == [("Radio Dept", EXACT)]


def test_word_prefixes_follow_whole_name_prefixes(index: ArtistSearchIndex) -> None:
    assert _found(index, "beat") == [("The Beatles", WORD_PREFIX)]
    assert _found(index, "head")[:1] == [("Head Automatica", PREFIX)]


def test_substrings_follow_prefixes_and_rank_by_popularity(index: ArtistSearchIndex) -> None:
    assert _found(index, "head") == [
        ("Head Automatica", PREFIX),
        ("Radiohead", SUBSTRING),
        ("Motörhead", SUBSTRING),
        ("Portishead", SUBSTRING),
    ]


def test_a_substring_across_words_matches(index: ArtistSearchIndex) -> None:
    assert _found(index, "nsnro") == [("Guns N' Roses", SUBSTRING)]


def test_typos_match_fuzzily_after_every_other_kind(index: ArtistSearchIndex) -> None:
    assert _found(index, "radiohed") == [("Radiohead", FUZZY)]
    assert _found(index, "portshead") == [("Portishead", FUZZY)]


def test_closer_typos_rank_first_whatever_their_popularity() -> None:
    index = ArtistSearchIndex([Entry(1, "Metallica", 99), Entry(2, "Metalica", 1)])

    assert [(m.id, m.kind) for m in index.search("metalicca")] == [(2, FUZZY), (1, FUZZY)]


def test_queries_under_three_characters_never_match_fuzzily(index: ArtistSearchIndex) -> None:
    assert _found(index, "xe") == []
    assert _found(index, "rdiohead") == [("Radiohead", FUZZY)]


def test_distant_names_do_not_match(index: ArtistSearchIndex) -> None:
    assert _found(index, "coldplay") == []


def test_case_accents_and_width_are_folded(index: ArtistSearchIndex) -> None:
    assert _found(index, "MOTORHEAD") == [("Motörhead", EXACT)]
    assert _found(index, "sigur ros") == [("Sigur Rós", EXACT)]
    assert _found(index, "ＳＩＧＵＲ") == [("Sigur Rós", PREFIX)]
    assert _found(index, "red") == [("Red", EXACT), ("ＲＥＤ", EXACT)]


def test_punctuation_in_the_query_is_ignored(index: ArtistSearchIndex) -> None:
    assert _found(index, "guns n' ro") == [("Guns N' Roses", PREFIX)]


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "'!?", "_"])
def test_empty_queries_find_nothing(index: ArtistSearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_limit_keeps_the_best(index: ArtistSearchIndex) -> None:
    assert _found(index, "head", limit=2) == [("Head Automatica", PREFIX), ("Radiohead", SUBSTRING)]
    assert index.search("head", limit=0) == []


def test_enough_prefix_matches_skip_the_substring_search(index: ArtistSearchIndex) -> None:
    assert _found(index, "r", limit=2) == [("Radiohead", PREFIX), ("Radio Dept", PREFIX)]


def test_matches_carry_id_and_raters(index: ArtistSearchIndex) -> None:
    (match,) = index.search("beatles")

    assert (match.id, match.name, match.raters) == (6, "The Beatles", 90)


def test_an_empty_index_finds_nothing() -> None:
    index = ArtistSearchIndex([])

    assert len(index) == 0
    assert index.search("radiohead") == []


class _Catalogue:
    """A stand-in catalogue counting how often the cache reads it."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = list(entries)
        self.loads = 0
        self.version_checks = 0

    def load(self, _session: object) -> list[Entry]:
        self.loads += 1
        return list(self.entries)

    def version(self, _session: object) -> tuple[int, int]:
        self.version_checks += 1
        return max((e.id for e in self.entries), default=0), len(self.entries)


def _cache(catalogue: _Catalogue) -> SearchIndexCache:
    return SearchIndexCache(catalogue.load, catalogue.version, refresh_seconds=2.0)


def test_the_cache_builds_once_and_answers_within_the_refresh_window(clock: SearchClock) -> None:
    catalogue = _Catalogue(ENTRIES[:2])
    cache = _cache(catalogue)

    first = cache.index(None)  # type: ignore[arg-type]
    clock.now += 1.9
    catalogue.entries.append(ENTRIES[2])
    second = cache.index(None)  # type: ignore[arg-type]

    assert second is first and len(second) == 2
    assert (catalogue.loads, catalogue.version_checks) == (1, 1)


def test_the_cache_rebuilds_after_the_window_only_if_the_version_changed(
    clock: SearchClock,
) -> None:
    catalogue = _Catalogue(ENTRIES[:2])
    cache = _cache(catalogue)
    first = cache.index(None)  # type: ignore[arg-type]

    clock.now += 2.0
    unchanged = cache.index(None)  # type: ignore[arg-type]
    catalogue.entries.append(ENTRIES[2])
    clock.now += 2.0
    rebuilt = cache.index(None)  # type: ignore[arg-type]

    assert unchanged is first
    assert rebuilt is not first and [m.id for m in rebuilt.search("portis")] == [3]
    assert (catalogue.loads, catalogue.version_checks) == (2, 3)


def test_invalidate_makes_the_next_call_check_the_version(clock: SearchClock) -> None:
    catalogue = _Catalogue(ENTRIES[:2])
    cache = _cache(catalogue)
    cache.index(None)  # type: ignore[arg-type]

    cache.invalidate()
    same = cache.index(None)  # type: ignore[arg-type]
    catalogue.entries.append(ENTRIES[2])
    cache.invalidate()
    grown = cache.index(None)  # type: ignore[arg-type]

    assert len(same) == 2 and len(grown) == 3
    assert (catalogue.loads, catalogue.version_checks) == (2, 3)


def test_invalidate_works_whatever_the_monotonic_clock_reads(clock: SearchClock) -> None:
    clock.now = 0.5
    catalogue = _Catalogue(ENTRIES[:2])
    cache = _cache(catalogue)
    cache.index(None)  # type: ignore[arg-type]
    catalogue.entries.append(ENTRIES[2])

    cache.invalidate()

    assert len(cache.index(None)) == 3  # type: ignore[arg-type]


def test_additions_are_layered_on_without_rebuilding_the_whole_index(clock: SearchClock) -> None:
    catalogue = _Catalogue(ENTRIES[:2])
    loaded_after: list[int] = []

    def load_after(_session: object, after_id: int) -> list[Entry]:
        loaded_after.append(after_id)
        return [entry for entry in catalogue.entries if entry.id > after_id]

    cache = SearchIndexCache(
        catalogue.load, catalogue.version, refresh_seconds=2.0, load_entries_after=load_after
    )
    cache.index(None)  # type: ignore[arg-type]
    catalogue.entries.append(ENTRIES[2])
    clock.now += 5
    grown = cache.index(None)  # type: ignore[arg-type]

    assert catalogue.loads == 1  # the whole catalogue was read once
    assert loaded_after == [max(e.id for e in ENTRIES[:2])]
    assert len(grown) == 3 and len(grown.added) == 1
    assert grown.search(ENTRIES[2].name, 1)[0].id == ENTRIES[2].id

    catalogue.entries.pop(0)  # a removal: nothing to layer, the index is rebuilt
    clock.now += 5
    shrunk = cache.index(None)  # type: ignore[arg-type]
    assert catalogue.loads == 2 and len(shrunk) == 2 and shrunk.added == []


class _SlowCatalogue(_Catalogue):
    """A catalogue whose version check waits until ``release`` is set (a busy database)."""

    def __init__(self, entries: list[Entry]) -> None:
        super().__init__(entries)
        self.checking, self.release = threading.Event(), threading.Event()

    def version(self, session: object) -> tuple[int, int]:
        if self.loads:  # the first build answers at once; the later checks are held
            self.checking.set()
            assert self.release.wait(10)
        return super().version(session)


def test_while_one_caller_checks_the_catalogue_the_others_search_the_index_they_have(
    clock: SearchClock,
) -> None:
    catalogue = _SlowCatalogue(ENTRIES[:2])
    cache = _cache(catalogue)
    first = cache.index(None)  # type: ignore[arg-type]
    clock.now += 2.0
    checker = threading.Thread(target=cache.index, args=(None,))
    checker.start()
    assert catalogue.checking.wait(10)

    others: list[object] = []
    reader = threading.Thread(target=lambda: others.extend(cache.index(None) for _ in range(5)))
    reader.start()
    reader.join(5)
    answered_without_waiting = not reader.is_alive()

    catalogue.release.set()
    checker.join(10)
    reader.join(10)
    assert answered_without_waiting
    assert len(others) == 5 and all(index is first for index in others)
    assert catalogue.version_checks == 2  # the first build's and the checker's, no queue
    clock.now += 1.0
    assert cache.index(None) is first and catalogue.version_checks == 2  # type: ignore[arg-type]


def test_callers_wait_for_the_first_index_and_it_is_built_once() -> None:
    catalogue = _Catalogue(ENTRIES[:2])
    building, release = threading.Event(), threading.Event()

    def slow_load(session: object) -> list[Entry]:
        building.set()
        assert release.wait(10)
        return catalogue.load(session)

    cache = SearchIndexCache(slow_load, catalogue.version, refresh_seconds=2.0)
    found: list[object] = []
    callers = [threading.Thread(target=lambda: found.append(cache.index(None))) for _ in range(3)]
    for caller in callers:
        caller.start()
    assert building.wait(10)
    release.set()
    for caller in callers:
        caller.join(10)

    assert len(found) == 3 and all(index is found[0] for index in found)
    assert catalogue.loads == 1


def test_an_unconfirmed_entry_is_found_by_its_owner_only() -> None:
    index = ArtistSearchIndex([Entry(1, "Garage Band", 0, owner=7), Entry(2, "Garage Rockers", 5)])
    assert [m.id for m in index.search("garage", 10)] == [2]
    assert [m.id for m in index.search("garage", 10, viewer=7)] == [2, 1]
    assert [m.id for m in index.search("garage", 1, viewer=7)] == [2]


@pytest.mark.parametrize(("query", "name"), [("!!!", "!!!"), (":(", ":("), ("+ \\-", "+\\-")])
def test_names_without_letters_or_digits_are_found_by_their_punctuation(
    query: str, name: str
) -> None:
    index = ArtistSearchIndex(
        [
            *ENTRIES,
            Entry(11, "!!!", 5),
            Entry(12, ":(", 1),
            Entry(13, "+\\-", 1),
            Entry(14, "!!! (live)", 9),
        ]
    )

    found = index.search(query)

    assert (found[0].name, found[0].kind) == (name, EXACT)


def test_punctuation_query_finds_names_starting_with_it() -> None:
    index = ArtistSearchIndex([*ENTRIES, Entry(11, "!!!", 5), Entry(14, "!!! (live)", 9)])

    assert [(m.name, m.kind) for m in index.search("!!")] == [
        ("!!! (live)", PREFIX),
        ("!!!", PREFIX),
    ]
    assert index.search("?") == []


def _alike_key(name: str) -> str:
    return search_words(name).replace(" ", "") or search.symbol_key(name)


@pytest.mark.realdata
def test_every_catalogue_artist_is_found_by_its_exact_name(shared_data: Path) -> None:
    data = load_lastfm(shared_data)
    entries = [
        Entry(int(artist_id), name, 0)
        for artist_id, name in zip(data.artist_ids, data.artist_names, strict=True)
    ]
    index = LayeredIndex(ArtistSearchIndex(entries))
    # Names that fold to the same key ("Red", "ＲＥＤ") are equally exact: each must be among
    # the first as many results as there are such names.
    alike = Counter(map(_alike_key, (entry.name for entry in entries)))

    missed = [
        entry.name
        for entry in entries
        if entry.id
        not in {match.id for match in index.search(entry.name, limit=alike[_alike_key(entry.name)])}
    ]

    assert missed == []


def test_a_prefix_run_ends_exactly_where_its_keys_end() -> None:
    """The run of keys starting with a prefix holds every such key, whatever follows it (even
    the highest code point), and nothing else."""
    keys = sorted(["ab", "ab\U0010ffff", "ab\U0010ffffz", "abc", "ac", "b", "\U0010ffff"])
    for prefix in ["a", "ab", "ab\U0010ffff", "b", "\U0010ffff", "z"]:
        low, high = search._run(keys, prefix)
        assert keys[low:high] == [key for key in keys if key.startswith(prefix)]
