from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from musicrec.datasets import DatasetError, load_lastfm
from tests.factories import write_csv_pair, write_hetrec_folder, write_hetrec_zip


def _as_rows(data) -> list[tuple[int, int, int]]:
    return list(
        zip(data.user_ids.tolist(), data.item_ids.tolist(), data.listens.tolist(), strict=True)
    )


@pytest.mark.parametrize("shape", ["csv", "hetrec-folder", "hetrec-zip"])
def test_each_shape_reads_the_same_listening_histories(tmp_path: Path, shape: str) -> None:
    path = {
        "csv": lambda: write_csv_pair(tmp_path / "csv"),
        "hetrec-folder": lambda: write_hetrec_folder(tmp_path / "hetrec"),
        "hetrec-zip": lambda: write_hetrec_zip(tmp_path / "hetrec2011-lastfm-2k.zip"),
    }[shape]()

    data = load_lastfm(path)

    assert data.source_rows == 7
    assert _as_rows(data) == [(7, 1, 153), (7, 2, 10), (7, 5, 400), (8, 3, 5), (8, 4, 5), (9, 5, 1)]
    assert data.n_users == 3
    assert data.artist_ids.tolist() == [1, 2, 3, 4, 5]
    assert data.artist_names[4] == 'Sigur Rós, "live"'


def test_csv_urls_are_built_and_hetrec_urls_kept_over_https(tmp_path: Path) -> None:
    csv_data = load_lastfm(write_csv_pair(tmp_path / "csv"))
    hetrec_data = load_lastfm(write_hetrec_folder(tmp_path / "hetrec"))

    assert csv_data.artist_urls[1] == "https://www.last.fm/music/Dan+B%C4%83lan"
    assert hetrec_data.artist_urls[0] == "https://www.last.fm/music/Dan+Balan"


@pytest.mark.parametrize(
    ("listens_header", "listens", "expected"),
    [
        ("user_id,artist_id,plays", [(1, 1, 3)], "line 1: missing column(s) scrobbles"),
        ("user_id,artist_id,scrobbles", [(1, 1, "many")], "line 2: scrobbles 'many'"),
        ("user_id,artist_id,scrobbles", [(1, 1, 3), (1, 99, 3)], "line 3: unknown artist id 99"),
        ("user_id,artist_id,scrobbles", [(1, 1, -3)], "line 2: scrobbles -3 is below 0"),
        ("user_id,artist_id,scrobbles", [(1, 1, 3, 4)], "line 2: expected 3 fields, found 4"),
        ("user_id,artist_id,scrobbles", [(2**63, 1, 3)], "line 2: user_id 9223372036854775808"),
        ("user_id,artist_id,scrobbles", [(1, 1, 2**31)], "above 2147483647"),
        (
            "user_id,artist_id,scrobbles",
            [(1, 1, 2**30), (1, 1, 2**30)],
            "user 1, artist 1: the listen counts",
        ),
    ],
)
def test_malformed_listens_name_the_file_and_line(
    tmp_path: Path, listens_header: str, listens: list[tuple[object, ...]], expected: str
) -> None:
    folder = write_csv_pair(tmp_path, listens=listens, listens_header=listens_header)

    with pytest.raises(DatasetError) as raised:
        load_lastfm(folder)

    assert "user_artist_scrobbles.csv" in str(raised.value)
    assert expected in str(raised.value)


def test_bad_encoding_names_the_line(tmp_path: Path) -> None:
    folder = write_csv_pair(tmp_path)
    (folder / "artists.csv").write_bytes(b"artist_id,artist_name\n1,Ok\n2,Bj\xf6rk\n")

    with pytest.raises(DatasetError, match=r"artists.csv, line 3: not valid UTF-8"):
        load_lastfm(folder)


def test_duplicate_artist_ids_are_refused(tmp_path: Path) -> None:
    folder = write_csv_pair(tmp_path, artists=[(1, "A"), (1, "B")], listens=[(1, 1, 2)])

    with pytest.raises(DatasetError, match="line 3: artist id 1 appears twice"):
        load_lastfm(folder)


def test_a_damaged_zip_file_is_a_clear_error(tmp_path: Path) -> None:
    archive = write_hetrec_zip(tmp_path / "hetrec2011-lastfm-2k.zip")
    raw = bytearray(archive.read_bytes())
    start = raw.index(b"user_artists.dat") + len(b"user_artists.dat")
    raw[start : start + 40] = bytes(40)  # the first member's compressed bytes are damaged
    archive.write_bytes(bytes(raw))

    with pytest.raises(DatasetError, match="the zip file is damaged"):
        load_lastfm(archive)


def test_a_folder_without_the_files_says_what_it_expected(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="expected user_artist_scrobbles.csv and artists.csv"):
        load_lastfm(tmp_path)
    with pytest.raises(DatasetError, match="no such file"):
        load_lastfm(tmp_path / "missing")


@pytest.mark.realdata
def test_shared_data_sums_the_61_repeated_pairs(shared_data: Path) -> None:
    data = load_lastfm(shared_data)

    assert (data.n_users, data.artist_ids.size, data.listens.size) == (1702, 17493, 83340)
    assert data.source_rows == 83403
    pair = (data.user_ids == 65) & (data.item_ids == 857)
    assert data.listens[pair].tolist() == [90 + 63]
    assert np.all(np.diff(data.user_ids) >= 0)
