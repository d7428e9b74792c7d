"""Read the Last.fm hetrec-2011 listening data in either of its two published shapes.

- the CSV pair: ``user_artist_scrobbles.csv`` (user_id, artist_id, scrobbles) and
  ``artists.csv`` (artist_id, artist_name);
- the GroupLens release ``hetrec2011-lastfm-2k``, as its zip file or unzipped folder:
  tab-separated ``user_artists.dat`` (userID, artistID, weight) and ``artists.dat``
  (id, name, url, pictureURL).

Everything is validated before anything is returned, so a caller that writes to a database
only after ``load_lastfm`` succeeds never writes half a file. Errors name the file and line.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicrec.integrations.lastfm import artist_page_url, checked_page_url

# Ids and listen counts are stored in 32-bit integer columns (PostgreSQL's INTEGER).
LARGEST_STORED = 2**31 - 1


class DatasetError(ValueError):
    """A dataset file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class ListeningData:
    """Artists and per-user listen counts, one row per distinct (user, artist) pair.

    ``user_ids``, ``artist_ids`` and ``listens`` are parallel arrays sorted by user then
    artist; pairs that appeared on several rows of the source are summed.
    """

    artist_ids: np.ndarray  # int64, the source's artist ids
    artist_names: list[str]
    artist_urls: list[str]
    user_ids: np.ndarray  # int64
    item_ids: np.ndarray  # int64, source artist id of each listening row
    listens: np.ndarray  # int64
    source_rows: int  # rows read before summing repeated pairs

    @property
    def n_users(self) -> int:
        return int(np.unique(self.user_ids).size)


@dataclass(frozen=True)
class _Layout:
    ratings_name: str
    artists_name: str
    delimiter: str
    ratings_columns: tuple[str, str, str]
    artist_columns: tuple[str, str]
    url_column: str | None


CSV_PAIR = _Layout(
    ratings_name="user_artist_scrobbles.csv",
    artists_name="artists.csv",
    delimiter=",",
    ratings_columns=("user_id", "artist_id", "scrobbles"),
    artist_columns=("artist_id", "artist_name"),
    url_column=None,
)
HETREC = _Layout(
    ratings_name="user_artists.dat",
    artists_name="artists.dat",
    delimiter="\t",
    ratings_columns=("userID", "artistID", "weight"),
    artist_columns=("id", "name"),
    url_column="url",
)


def load_lastfm(path: str | Path) -> ListeningData:
    """Read and validate a dataset folder or the hetrec zip file at ``path``."""
    files = _open_source(Path(path))
    layout = _detect_layout(files, Path(path))
    artists_label, artists_bytes = files[layout.artists_name]
    ratings_label, ratings_bytes = files[layout.ratings_name]
    artist_ids, names, urls = _read_artists(artists_label, artists_bytes, layout)
    users, items, listens, source_rows = _read_listens(
        ratings_label, ratings_bytes, layout, set(artist_ids.tolist())
    )
    return ListeningData(
        artist_ids=artist_ids,
        artist_names=names,
        artist_urls=urls,
        user_ids=users,
        item_ids=items,
        listens=listens,
        source_rows=source_rows,
    )


def _open_source(path: Path) -> dict[str, tuple[str, bytes]]:
    """Map each known file name to (label for messages, raw bytes)."""
    wanted = {
        CSV_PAIR.ratings_name,
        CSV_PAIR.artists_name,
        HETREC.ratings_name,
        HETREC.artists_name,
    }
    found: dict[str, tuple[str, bytes]] = {}
    if path.is_dir():
        for name in wanted:
            candidate = path / name
            if candidate.is_file():
                found[name] = (str(candidate), candidate.read_bytes())
        return found
    if path.is_file() and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    base = member.rsplit("/", 1)[-1]
                    if base in wanted and base not in found:
                        found[base] = (f"{path}:{member}", archive.read(member))
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise DatasetError(f"{path}: the zip file is damaged ({error})") from None
        return found
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    raise DatasetError(f"{path}: neither a dataset folder nor a zip file")


def _detect_layout(files: dict[str, tuple[str, bytes]], path: Path) -> _Layout:
    for layout in (CSV_PAIR, HETREC):
        if layout.ratings_name in files and layout.artists_name in files:
            return layout
    raise DatasetError(
        f"{path}: expected {CSV_PAIR.ratings_name} and {CSV_PAIR.artists_name}, "
        f"or {HETREC.ratings_name} and {HETREC.artists_name}"
    )


def _decode(label: str, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DatasetError(f"{label}, line {line}: not valid UTF-8 text") from None
    return text


def _rows(label: str, raw: bytes, layout: _Layout) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) after checking the header has the columns we need."""
    text = _decode(label, raw)
    # hetrec's tab-separated files use no quoting; the CSV pair quotes names with commas.
    if layout.delimiter == "\t":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        raise DatasetError(f"{label}, line 1: the file is empty") from None
    required = (
        layout.ratings_columns if label.endswith(layout.ratings_name) else layout.artist_columns
    )
    missing = [column for column in required if column not in header]
    if missing:
        raise DatasetError(f"{label}, line 1: missing column(s) {', '.join(missing)}")
    for fields in reader:
        line = reader.line_num
        if not fields or fields == [""]:
            continue
        if len(fields) != len(header):
            raise DatasetError(
                f"{label}, line {line}: expected {len(header)} fields, found {len(fields)}"
            )
        yield line, dict(zip(header, fields, strict=True))


def _integer(label: str, line: int, column: str, value: str, minimum: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise DatasetError(
            f"{label}, line {line}: {column} {value!r} is not a whole number"
        ) from None
    if number < minimum:
        raise DatasetError(f"{label}, line {line}: {column} {number} is below {minimum}")
    if number > LARGEST_STORED:
        raise DatasetError(
            f"{label}, line {line}: {column} {number} is above {LARGEST_STORED}, the largest "
            "that can be stored"
        )
    return number


def _read_artists(
    label: str, raw: bytes, layout: _Layout
) -> tuple[np.ndarray, list[str], list[str]]:
    id_column, name_column = layout.artist_columns
    seen: set[int] = set()
    ids: list[int] = []
    names: list[str] = []
    urls: list[str] = []
    for line, row in _rows(label, raw, layout):
        artist_id = _integer(label, line, id_column, row[id_column], 0)
        name = row[name_column].strip()
        if not name:
            raise DatasetError(f"{label}, line {line}: the artist name is empty")
        if artist_id in seen:
            raise DatasetError(f"{label}, line {line}: artist id {artist_id} appears twice")
        seen.add(artist_id)
        url = (row.get(layout.url_column) or "").strip() if layout.url_column else ""
        ids.append(artist_id)
        names.append(name)
        urls.append((checked_page_url(url) if url else None) or artist_page_url(name))
    return np.asarray(ids, dtype=np.int64), names, urls


def _read_listens(
    label: str, raw: bytes, layout: _Layout, known_artists: set[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    user_column, artist_column, count_column = layout.ratings_columns
    users: list[int] = []
    items: list[int] = []
    counts: list[int] = []
    for line, row in _rows(label, raw, layout):
        user = _integer(label, line, user_column, row[user_column], 0)
        artist = _integer(label, line, artist_column, row[artist_column], 0)
        if artist not in known_artists:
            raise DatasetError(f"{label}, line {line}: unknown artist id {artist}")
        users.append(user)
        items.append(artist)
        counts.append(_integer(label, line, count_column, row[count_column], 0))
    if not users:
        raise DatasetError(f"{label}: no listening rows")
    return (*_sum_repeated_pairs(label, users, items, counts), len(users))


def _sum_repeated_pairs(
    label: str, users: list[int], items: list[int], counts: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One listening history per (user, artist): rows repeating a pair are summed."""
    user_array = np.asarray(users, dtype=np.int64)
    item_array = np.asarray(items, dtype=np.int64)
    count_array = np.asarray(counts, dtype=np.int64)
    pairs = np.stack([user_array, item_array], axis=1)
    unique_pairs, inverse = np.unique(pairs, axis=0, return_inverse=True)
    summed = np.zeros(len(unique_pairs), dtype=np.int64)
    np.add.at(summed, inverse.ravel(), count_array)
    if summed.size and summed.max() > LARGEST_STORED:  # repeated rows can sum past the column
        user, artist = unique_pairs[int(summed.argmax())]
        raise DatasetError(
            f"{label}: user {user}, artist {artist}: the listen counts of the rows repeating "
            f"this pair sum to {int(summed.max())}, above {LARGEST_STORED}, the largest that "
            "can be stored"
        )
    return unique_pairs[:, 0].copy(), unique_pairs[:, 1].copy(), summed
