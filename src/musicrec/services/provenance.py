"""Where an imported rating came from is the server's call, never the file's.

An export signs each rating (HMAC-SHA256 with the secret key, through itsdangerous) over the
user's id, the artist, the value and the source: only that user's unedited rows carry a valid
signature. On import:

- a row with a valid signature is restored as it was exported, source included (a backup
  brought back keeps what it was: Spotify ratings stay Spotify ratings);
- an unsigned or edited row for an artist the user has not rated gets the source ``file``,
  which never trains (it may be an edited export of Spotify ratings);
- an unsigned or edited row for an artist the user rated keeps the stored rating's source when
  that source cannot train, or when the value is unchanged; otherwise (a new value for a
  trainable rating) it becomes ``manual``, as if typed in.

So no edit of a file, in its ``source`` column or elsewhere, makes a rating trainable.
"""

from __future__ import annotations

import hashlib

from itsdangerous import Signer

from musicrec.db.models import RATING_SOURCES
from musicrec.db.ratings import StoredRating
from musicrec.db.trainable import is_trainable_source

SALT = "musicrec.rating-provenance"
FILE_SOURCE = "file"
TYPED_SOURCE = "manual"


def _signer(secret_key: str) -> Signer:
    return Signer(secret_key, salt=SALT, digest_method=hashlib.sha256)


def _signed_text(user_id: int, artist_id: int, value: int, source: str) -> str:
    return f"{user_id}:{artist_id}:{value}:{source}"


def sign(secret_key: str, user_id: int, artist_id: int, value: int, source: str) -> str:
    """The signature an export gives this rating of this user."""
    text = _signed_text(user_id, artist_id, value, source)
    return _signer(secret_key).get_signature(text).decode("ascii")


def signed_source(
    secret_key: str, user_id: int, artist_id: int, value: int, source: object, signature: object
) -> str | None:
    """The row's source when its signature is this user's export's for exactly this row."""
    if not isinstance(source, str) or source not in RATING_SOURCES:
        return None
    if not isinstance(signature, str) or not signature or not signature.isascii():
        return None
    text = _signed_text(user_id, artist_id, value, source)
    return source if _signer(secret_key).verify_signature(text, signature) else None


def imported_source(stored: StoredRating | None, value: int, signed: str | None) -> str:
    """The source an imported rating is stored with (the module's rules)."""
    if signed is not None:
        return signed
    if stored is None:
        return FILE_SOURCE
    if not is_trainable_source(stored.source) or stored.rating == value:
        return stored.source
    return TYPED_SOURCE
