"""Seeded synthetic listening data with the shape of the public Last.fm-360K release.

Last.fm-360K: about 359k users, 292k artists and 17.5M (user, artist, plays) rows. The
generator plants what makes that data hard and learnable:

- Zipf-like artist popularity: weight 1 / (rank + 10)^0.95 over a random ranking of artists;
- heavy-tailed user activity: artists per user log-normal (median ~36, long right tail);
- heavy-tailed play counts: log-normal, doubled for the user's favourite genre;
- a planted low-rank structure: artists belong to one of 64 genres, each user draws three
  genres (weights 0.6, 0.25, 0.15) and 10% of their artists from overall popularity, so the
  user x artist matrix is close to rank 64 plus popularity.

Every step is vectorised NumPy (a few seconds at full size). The arrays are cached as .npz in
``benchmarks/.cache/`` (git-ignored) and reused. Run ``python benchmarks/synthetic.py 0.1``
to write the tenth.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"
USERS, ARTISTS, PAIRS = 359_347, 292_385, 17_535_655
GENRES = 64
GENRE_WEIGHTS = np.array([0.6, 0.25, 0.15])
FROM_POPULARITY = 0.10
ROUNDS = 4  # draws of the pairs still missing after repeats are dropped
SEED = 360


@dataclass(frozen=True)
class Listening:
    """Parallel arrays sorted by user then artist; ids are dense from 0."""

    user_ids: np.ndarray  # int32
    artist_ids: np.ndarray  # int32
    plays: np.ndarray  # int32
    n_users: int
    n_artists: int


def generate(scale: float = 1.0, seed: int = SEED) -> Listening:
    rng = np.random.default_rng(seed)
    n_users, n_artists = round(USERS * scale), round(ARTISTS * scale)
    wanted = round(PAIRS * scale)

    # Artists: a genre each (contiguous blocks of ids) and a Zipf weight from a random rank.
    genre_of = np.sort(rng.integers(0, GENRES, n_artists))
    genre_start = np.searchsorted(genre_of, np.arange(GENRES + 1))
    weights = 1.0 / (rng.permutation(n_artists) + 10.0) ** 0.95
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])

    # Users: heavy-tailed activity scaled to the wanted number of pairs, three genres each.
    activity = rng.lognormal(mean=3.6, sigma=0.9, size=n_users)
    counts = np.maximum(1, np.round(activity * wanted / activity.sum())).astype(np.int64)
    counts = np.minimum(counts, n_artists // 2)
    favourite = rng.integers(0, GENRES, size=(n_users, 3))

    # Pairs: each picks a genre slot of its user (or overall popularity), then an artist
    # by inverse CDF of the Zipf weights restricted to that genre's block of ids. A pair drawn
    # twice is kept once and drawn again, so each user ends close to their activity.
    def draw(user: np.ndarray) -> np.ndarray:
        slot = np.searchsorted(np.cumsum(GENRE_WEIGHTS), rng.random(user.size) * 0.999999)
        genre = favourite[user, slot]
        low, high = cumulative[genre_start[genre]], cumulative[genre_start[genre + 1]]
        popular = rng.random(user.size) < FROM_POPULARITY
        low[popular], high[popular] = 0.0, cumulative[-1]
        artist = np.searchsorted(cumulative, low + rng.random(user.size) * (high - low)) - 1
        return user * n_artists + np.clip(artist, 0, n_artists - 1)

    key = np.empty(0, dtype=np.int64)
    missing = counts
    for _ in range(ROUNDS):
        key = np.concatenate([key, draw(np.repeat(np.arange(n_users), missing))])
        key.sort()  # by user, then artist
        key = key[np.concatenate([[True], key[1:] != key[:-1]])]
        missing = counts - np.bincount(key // n_artists, minlength=n_users)
    user, artist = key // n_artists, key % n_artists
    favourite_genre = genre_of[artist] == favourite[user, 0]
    plays = np.ceil(rng.lognormal(mean=3.5, sigma=1.4, size=key.size) * (1 + favourite_genre))
    return Listening(
        user.astype(np.int32),
        artist.astype(np.int32),
        np.minimum(plays, 2**31 - 1).astype(np.int32),
        n_users,
        n_artists,
    )


def cache_path(scale: float, seed: int = SEED) -> Path:
    return CACHE / f"lastfm360k-shape-scale{scale:g}-seed{seed}.npz"


def load(scale: float = 1.0, seed: int = SEED) -> Listening:
    """The cached arrays of this scale and seed, generated and written on first use."""
    path = cache_path(scale, seed)
    if not path.exists():
        data = generate(scale, seed)
        CACHE.mkdir(exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez(
            partial,
            user_ids=data.user_ids,
            artist_ids=data.artist_ids,
            plays=data.plays,
            shape=np.array([data.n_users, data.n_artists]),
        )
        partial.rename(path)
    with np.load(path) as stored:
        n_users, n_artists = (int(value) for value in stored["shape"])
        return Listening(
            stored["user_ids"], stored["artist_ids"], stored["plays"], n_users, n_artists
        )


def main() -> None:
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    start = time.perf_counter()
    data = load(scale)
    seconds = time.perf_counter() - start
    per_user = np.bincount(data.user_ids, minlength=data.n_users)
    per_artist = np.bincount(data.artist_ids, minlength=data.n_artists)
    print(
        f"scale {scale:g}: {data.n_users:,} users, {data.n_artists:,} artists, "
        f"{data.plays.size:,} pairs in {seconds:.1f} s (generated or read from the cache); "
        f"artists per user median "
        f"{np.median(per_user):.0f}, max {per_user.max():,}; listeners of the top artist "
        f"{per_artist.max():,}, artists with no listener {(per_artist == 0).sum():,}; "
        f"plays median {np.median(data.plays):.0f}, max {data.plays.max():,}"
    )


if __name__ == "__main__":
    main()
