"""The schema: users, artists, ratings, recommendations, background jobs and data imports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from musicrec.db.types import UTCDateTime, utcnow

RATING_MIN, RATING_MAX = 1, 10
RATING_SOURCES = ("manual", "spotify", "lastfm", "file")
# Spotify's developer terms forbid training a model on Spotify content: these ratings are the
# user's own (and drive their recommendations through fold-in) but never train the shared model.
# "file": a rating read from an uploaded file whose row the server did not sign for this user
# (services.provenance): it may be an edited export of Spotify ratings, so it never trains.
UNTRAINABLE_SOURCES = ("spotify", "file")
JOB_KINDS = ("train", "tune", "import")
JOB_STATES = ("queued", "running", "done", "failed")
# Kinds of which at most one job may be queued or running at a time (a unique partial index).
EXCLUSIVE_JOB_KINDS = ("train", "tune")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """An account. Starter users imported from Last.fm have no password and cannot log in."""

    __tablename__ = "users"
    # SQLite hands out max(id) + 1 otherwise: a new account would get a deleted one's id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    # Case-folded copies make uniqueness case-insensitive on both databases.
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    lastfm_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Operators: the operator's page and the admin API (`musicrec create-admin USERNAME`).
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Discover vs familiar, 0..1; None: the app's default (engine.discovery.DEFAULT_DISCOVERY).
    discovery: Mapped[float | None] = mapped_column(Float)

    ratings: Mapped[list[Rating]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class Artist(Base):
    """A catalogue entry; ``name_key`` is the name folded for case, accents and width.

    Not unique: distinct artists can share a name (two called 'Red' in the Last.fm data).
    """

    __tablename__ = "artists"
    __table_args__ = (
        Index("ix_artists_added_by_created_at", "added_by", "created_at"),
        # An unconfirmed artist always has its owner: deleting the owner must delete it first
        # (services.erasure), never leave it ownerless (ON DELETE SET NULL would make it public).
        CheckConstraint("confirmed OR added_by IS NOT NULL", name="owned_until_confirmed"),
        # Ids are never reused (models and caches name artists by id).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    name_key: Mapped[str] = mapped_column(String(512), index=True)
    lastfm_url: Mapped[str | None] = mapped_column(String(1024))
    lastfm_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    spotify_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A picture of the artist (from Spotify's artist images on import), when known.
    image_url: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An artist a user added is theirs alone (search, pages, training) until the operator
    # confirms it; imported artists are confirmed.
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # How often listeners' agreed spelling renamed it (``db.spellings``): the search index's
    # catalogue version sums it, so a rename rebuilds the index. The database's default only,
    # so an INSERT names no column that a database migrated to an older revision lacks.
    renames: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class ArtistSpelling(Base):
    """The spelling a user's Spotify import gave a shared artist (case, accents: the same
    folded name): one user's proposal renames nothing, enough listeners agreeing do."""

    __tablename__ = "artist_spellings"
    __table_args__ = (Index("ix_artist_spellings_user_id", "user_id"),)

    artist_id: Mapped[int] = mapped_column(
        ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    spelling: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rating(Base):
    """A user's 1..10 rating of an artist; at most one per user and artist."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("user_id", "artist_id"),
        CheckConstraint(f"rating BETWEEN {RATING_MIN} AND {RATING_MAX}", name="rating_range"),
        CheckConstraint(
            "source IN (" + ", ".join(f"'{s}'" for s in RATING_SOURCES) + ")", name="source_known"
        ),
        CheckConstraint("listens IS NULL OR listens >= 0", name="listens_not_negative"),
        Index("ix_ratings_artist_id", "artist_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    # The listen count a rating was derived from, when it came from listening history.
    listens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="ratings")
    artist: Mapped[Artist] = relationship()


class Recommendation(Base):
    """An artist recommended to a user; unique per user and artist, so none is ever repeated."""

    __tablename__ = "recommendations"
    __table_args__ = (
        UniqueConstraint("user_id", "artist_id"),
        Index("ix_recommendations_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(64))
    # The user's rated artists that contributed most, kept so the history can say why.
    because: Mapped[list[int]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Its place in its batch (0 = first) as ranked when made, discovery penalty included:
    # every reader orders a batch by it, so a batch keeps the order it was shown in.
    position: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    artist: Mapped[Artist] = relationship()


class Erasure(Base):
    """A deleted account's id (nothing else), so that no published model version keeps its
    ratings: the worker strips the id from every kept version (``services.erasure``)."""

    __tablename__ = "erasures"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the worker first found no kept version holding the id (None: not yet).
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrainingDataChange(Base):
    """Changes to the ratings training reads, counted by database triggers (migration 0010) in
    the writing transaction: the retraining check sums them since the newest model's data."""

    __tablename__ = "rating_changes"
    __table_args__ = (Index("ix_rating_changes_at", "at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changes: Mapped[int] = mapped_column(Integer, default=1)


class Dislike(Base):
    """An artist the user said is "not for me": never recommended to them again."""

    __tablename__ = "dislikes"
    __table_args__ = (UniqueConstraint("user_id", "artist_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    artist: Mapped[Artist] = relationship()


class PasswordReset(Base):
    """A password-reset token, stored as its SHA-256 only; single use, short-lived."""

    __tablename__ = "password_resets"
    __table_args__ = (Index("ix_password_resets_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthSession(Base):
    """A signed-in session, server-side, so a token can be refused after logout.

    The token a client holds (cookie or Bearer) is a signed JWT naming this row's ``id``;
    revoking the row, or deleting the user, makes every copy of that token worthless.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FailedLogin(Base):
    """One failed log-in, counted by every worker alike: per account (from clients without a
    device cookie for it), per client address, and per device cookie."""

    __tablename__ = "failed_logins"
    __table_args__ = (
        Index("ix_failed_logins_account_key_at", "account_key", "at"),
        Index("ix_failed_logins_client_at", "client", "at"),
        Index("ix_failed_logins_device_at", "device", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(400))
    client: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64))  # a known device's id, if one tried
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RateLimitCounter(Base):
    """One fixed-window rate-limit counter (sign-ups, password checks...), shared by every
    worker and server on the database; ``expires_at`` is in seconds since the epoch."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class DataImport(Base):
    """One completed import of a dataset, so a repeated set-up can see it is already done."""

    __tablename__ = "data_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    location: Mapped[str] = mapped_column(Text)
    users: Mapped[int] = mapped_column(Integer)
    artists: Mapped[int] = mapped_column(Integer)
    ratings: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Job(Base):
    """Long work done by the worker process (``musicrec worker``): a training, a tuning run, an
    import. The worker writes its state, progress and heartbeat here; the web reads them.

    ``worker`` names the process running it (``<host>-<pid>``) and ``heartbeat_at`` says when it
    last proved alive, so a job whose worker died is retried or failed, never left running.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_quoted(JOB_KINDS)})", name="kind_known"),
        CheckConstraint(f"state IN ({_quoted(JOB_STATES)})", name="state_known"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        Index("ix_jobs_user_id", "user_id"),
        Index("ix_jobs_state", "state"),
        # Never two trainings (or tuning runs) at once, whoever queued them.
        Index(
            "uq_jobs_one_active_per_kind",
            "kind",
            unique=True,
            # nosemgrep: security.sqlalchemy-text-from-strings (module constants, not input)
            sqlite_where=text(
                f"state IN ('queued', 'running') AND kind IN ({_quoted(EXCLUSIVE_JOB_KINDS)})"
            ),
            # nosemgrep: security.sqlalchemy-text-from-strings (module constants, not input)
            postgresql_where=text(
                f"state IN ('queued', 'running') AND kind IN ({_quoted(EXCLUSIVE_JOB_KINDS)})"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    # Why it was queued: "admin", "new ratings", "schedule", "cli", ...
    reason: Mapped[str] = mapped_column(String(64), default="")
    params: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, object] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # also the run's fencing token
    worker: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its id was last handed to the task queue, and how often (a lost message is resent).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deliveries: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SpotifyLink(Base):
    """A user's Spotify connection. The refresh token is stored encrypted (Fernet); a link whose
    refresh token Spotify refused keeps only ``lost_reason``, shown until the user reconnects."""

    __tablename__ = "spotify_links"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    spotify_user_id: Mapped[str | None] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(256))
    access_token: Mapped[str | None] = mapped_column(Text)  # encrypted too: it is a credential
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scope: Mapped[str] = mapped_column(String(512), default="")
    authorized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TopSong(Base):
    """A cached top song of an artist (from Last.fm, matched to a Spotify track when possible)."""

    __tablename__ = "top_songs"
    __table_args__ = (UniqueConstraint("artist_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(String(1024))  # a page to listen on
    spotify_uri: Mapped[str | None] = mapped_column(String(128))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelVersionRow(Base):
    """A published model version kept in the database (``MUSICREC_MODEL_STORE=database``).

    Its ``arrays.npz`` lives in ``model_chunks``; ``meta`` is its ``meta.json``. A node loads a
    version only once ``complete`` (set after the last chunk was written), and checks the bytes
    it read against ``sha256`` and ``size`` before using them."""

    __tablename__ = "model_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    meta: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    complete: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelChunk(Base):
    """One piece (at most ``services.model_store.CHUNK_BYTES``) of a version's arrays."""

    __tablename__ = "model_chunks"

    version: Mapped[str] = mapped_column(
        ForeignKey("model_versions.name", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Node(Base):
    """A running web process (``<host>-<pid>``): the fingerprint of the settings every node must
    share, the model version it serves, and when it last proved alive."""

    __tablename__ = "nodes"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
