"""Fuzz the Last.fm import parser with atheris: only ``DatasetError`` may escape ``load_lastfm``.

Run as a script (``python security/fuzz_import.py CORPUS_DIR -atheris_runs=20000``); libFuzzer's
own flags pass through. An input is one byte choosing the shape, then the files' bytes:

- 0: the CSV pair in a folder, 1: the hetrec .dat pair in a folder, 2: the hetrec pair in a zip
  (each: the artists file, ``SPLIT``, the listening file);
- 3: the bytes themselves as a zip file (corrupt archives).

``write_seeds`` writes a small valid input of each shape, so the fuzzer starts from real files.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import zipfile
from pathlib import Path

SPLIT = b"\n=====\n"
SHAPES = 4
CSV_ARTISTS = b'artist_id,artist_name\n1,Radiohead\n2,"Crosby, Stills & Nash"\n'
CSV_LISTENS = b"user_id,artist_id,scrobbles\n1,1,10\n1,2,3\n2,1,7\n"
DAT_ARTISTS = (
    b"id\tname\turl\tpictureURL\n1\tRadiohead\thttp://www.last.fm/music/Radiohead\t\n"
    b"2\tMuse\tjavascript:alert(1)\t\n"
)
DAT_LISTENS = b"userID\tartistID\tweight\n2\t1\t13883\n2\t2\t11690\n3\t1\t5\n"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def write_seeds(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    dat_zip = _zip({"hetrec/artists.dat": DAT_ARTISTS, "hetrec/user_artists.dat": DAT_LISTENS})
    seeds = [
        bytes([0]) + CSV_ARTISTS + SPLIT + CSV_LISTENS,
        bytes([1]) + DAT_ARTISTS + SPLIT + DAT_LISTENS,
        bytes([2]) + DAT_ARTISTS + SPLIT + DAT_LISTENS,
        bytes([3]) + dat_zip,
    ]
    for number, seed in enumerate(seeds):
        (corpus / f"seed-{number}").write_bytes(seed)


def write_dataset(data: bytes, folder: Path) -> Path:
    """Lay out one fuzzer input as the files ``load_lastfm`` reads; the path to give it."""
    for old in folder.iterdir():
        old.unlink()
    shape, body = (data[0] % SHAPES, data[1:]) if data else (0, b"")
    artists, _, listens = body.partition(SPLIT)
    if shape == 0:
        (folder / "artists.csv").write_bytes(artists)
        (folder / "user_artist_scrobbles.csv").write_bytes(listens)
        return folder
    if shape == 1:
        (folder / "artists.dat").write_bytes(artists)
        (folder / "user_artists.dat").write_bytes(listens)
        return folder
    archive = folder / "hetrec2011-lastfm-2k.zip"
    if shape == 2:
        archive.write_bytes(_zip({"artists.dat": artists, "user_artists.dat": listens}))
    else:
        archive.write_bytes(body)
    return archive


def main() -> None:
    import atheris

    with atheris.instrument_imports():
        from musicrec.datasets.lastfm_hetrec import DatasetError, load_lastfm

    workspace = Path(tempfile.mkdtemp(prefix="fuzz-import-"))
    folder = workspace / "data"
    folder.mkdir()

    def one_input(data: bytes) -> None:
        with contextlib.suppress(DatasetError):
            load_lastfm(write_dataset(data, folder))

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
