"""Small datasets written in each published shape, for tests that need exact answers."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from musicrec.datasets import ListeningData
from musicrec.db.session import transaction
from musicrec.services.importing import ImportSummary, import_listening_data
from musicrec.services.training import train_and_publish

ARTISTS: list[tuple[int, str]] = [
    (1, "Dan Balan"),
    (2, "Dan Bălan"),
    (3, "Red"),
    (4, "ＲＥＤ"),
    (5, 'Sigur Rós, "live"'),
]
# user 7 repeats artist 1 on two rows: one history of 90 + 63 listens.
LISTENS: list[tuple[int, int, int]] = [
    (7, 1, 90),
    (7, 2, 10),
    (7, 1, 63),
    (7, 5, 400),
    (8, 3, 5),
    (8, 4, 5),
    (9, 5, 1),
]


def write_csv_pair(
    folder: Path,
    artists: Sequence[tuple[object, ...]] = ARTISTS,
    listens: Sequence[tuple[object, ...]] = LISTENS,
    artist_header: str = "artist_id,artist_name",
    listens_header: str = "user_id,artist_id,scrobbles",
) -> Path:
    """The shared data's shape: comma-separated, quoted where needed."""
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "artists.csv", "w", newline="", encoding="utf-8") as handle:
        handle.write(artist_header + "\n")
        csv.writer(handle).writerows(artists)
    with open(folder / "user_artist_scrobbles.csv", "w", newline="", encoding="utf-8") as handle:
        handle.write(listens_header + "\n")
        csv.writer(handle).writerows(listens)
    return folder


def hetrec_files(
    artists: Sequence[tuple[int, str]] = ARTISTS,
    listens: Sequence[tuple[int, int, int]] = LISTENS,
) -> dict[str, str]:
    """The GroupLens release's shape: tab-separated, artists with Last.fm and picture URLs."""
    artist_lines = ["id\tname\turl\tpictureURL"] + [
        f"{artist}\t{name}\thttp://www.last.fm/music/{name.replace(' ', '+')}\t"
        f"http://userserve-ak.last.fm/serve/252/{artist}.jpg"
        for artist, name in artists
    ]
    listen_lines = ["userID\tartistID\tweight"] + [f"{u}\t{a}\t{w}" for u, a, w in listens]
    return {
        "artists.dat": "\n".join(artist_lines) + "\n",
        "user_artists.dat": "\n".join(listen_lines) + "\n",
        "tags.dat": "tagID\ttagValue\n1\tmetal\n",
    }


def write_hetrec_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in hetrec_files().items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def write_hetrec_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in hetrec_files().items():
            archive.writestr(name, content)
    return path


def import_in_transaction(engine: Engine, data: ListeningData, **options: Any) -> ImportSummary:
    """Import ``data`` in one committed transaction, as ``musicrec import-lastfm`` does."""
    with transaction(engine) as session:
        return import_listening_data(session, data, **options)


def train_in_transaction(engine: Engine, model_dir: Path, *args: Any, **overrides: Any) -> Any:
    """Train and publish from the database's ratings, as ``musicrec train`` does."""
    return train_and_publish(engine, model_dir, *args, **overrides)


def seed_two_tastes(
    engine: Engine, listeners: int = 20, artists_per_taste: int = 10
) -> tuple[list[int], list[int]]:
    """Two groups of listeners, each rating only its own group of artists (an obvious right
    answer for a fold-in: rate one group's artist, get that group's artists). Returns the
    artist ids of each taste."""
    from sqlalchemy import insert

    from musicrec.db.models import Artist, Rating, User

    tastes: tuple[list[int], list[int]] = ([], [])
    with engine.begin() as connection:
        for taste, ids in enumerate(tastes):
            for n in range(artists_per_taste):
                name = f"Taste {taste} artist {n}"
                ids.append(
                    connection.execute(
                        insert(Artist)
                        .values(name=name, name_key=name.casefold())
                        .returning(Artist.id)
                    ).scalar_one()
                )
        for listener in range(listeners):
            name = f"listener:{listener}"
            user_id = connection.execute(
                insert(User).values(username=name, username_key=name).returning(User.id)
            ).scalar_one()
            ids = tastes[listener % 2]
            rows = [
                {"user_id": user_id, "artist_id": artist, "rating": 5 + (listener + i) % 6}
                for i, artist in enumerate(ids)
                if (listener + i) % 4
            ]
            connection.execute(insert(Rating), [{**row, "source": "lastfm"} for row in rows])
    return tastes
