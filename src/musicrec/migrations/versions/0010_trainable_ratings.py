"""trainable ratings: one definition, changes counted for retraining

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

- A new rating source, ``file``: a rating read from an uploaded file whose row the server did
  not sign for that user. Like ``spotify`` it never trains (``db.trainable``).
- ``rating_changes`` counts changes to the ratings training reads (a trainable rating
  inserted, changed in value, deleted or made untrainable; an artist confirmed or unconfirmed
  with trainable ratings), written by triggers in the writing transaction, whoever writes:
  the API, the Last.fm import, a cascade from a deleted account. The retraining check sums them
  since the newest model's data was read, instead of trusting ``ratings.updated_at`` (which an
  unchanged re-import bumped and a deletion never touched).
- Ratings already there are counted once, so the first check after the upgrade compares the
  data with the newest model.

The triggers repeat ``db.trainable``'s definition (a confirmed artist, a source other than
spotify and file) in SQL; tests/db/test_trainable.py checks that both agree. PostgreSQL counts
per statement (transition tables): a bulk import writes one row, not one per rating.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SOURCES = "'manual', 'spotify', 'lastfm'"
NEW_SOURCES = "'manual', 'spotify', 'lastfm', 'file'"
TRAINABLE = "'manual', 'lastfm'"
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"  # SQLAlchemy's text format for SQLite


def _sqlite_trainable(row: str) -> str:
    return (
        f"({row}.source IN ({TRAINABLE}) AND EXISTS "  # nosec B608: module constants
        f"(SELECT 1 FROM artists WHERE artists.id = {row}.artist_id AND artists.confirmed))"
    )


def _changed(old_trainable: str, new_trainable: str, old: str, new: str) -> str:
    """Whether an update changed the trainable data: a row entered or left it, or a row in it
    changed its user, artist or value (the source alone changes nothing training reads)."""
    return (
        f"({old_trainable} OR {new_trainable}) AND ({old_trainable} <> {new_trainable} "
        f"OR {old}.rating <> {new}.rating OR {old}.artist_id <> {new}.artist_id "
        f"OR {old}.user_id <> {new}.user_id)"
    )


def _sqlite_trigger(name: str, event: str, when: str, action: str) -> str:
    return f"CREATE TRIGGER {name} {event} WHEN {when} BEGIN {action}; END"  # nosec B608


COUNT_ONE = f"INSERT INTO rating_changes (at, changes) VALUES ({SQLITE_NOW}, 1)"  # nosec B608
COUNT_CONFIRMED = (  # an artist's trainable ratings, when it is confirmed or unconfirmed
    "INSERT INTO rating_changes (at, changes) "  # nosec B608
    f"SELECT {SQLITE_NOW}, (SELECT count(*) FROM ratings "
    f"WHERE artist_id = NEW.id AND source IN ({TRAINABLE})) "
    f"WHERE EXISTS (SELECT 1 FROM ratings WHERE artist_id = NEW.id AND source IN ({TRAINABLE}))"
)
SQLITE_TRIGGERS = {
    "rating_changes_on_insert": _sqlite_trigger(
        "rating_changes_on_insert",
        "AFTER INSERT ON ratings",
        _sqlite_trainable("NEW"),
        COUNT_ONE,
    ),
    "rating_changes_on_update": _sqlite_trigger(
        "rating_changes_on_update",
        "AFTER UPDATE ON ratings",
        _changed(_sqlite_trainable("OLD"), _sqlite_trainable("NEW"), "OLD", "NEW"),
        COUNT_ONE,
    ),
    "rating_changes_on_delete": _sqlite_trigger(
        "rating_changes_on_delete",
        "AFTER DELETE ON ratings",
        _sqlite_trainable("OLD"),
        COUNT_ONE,
    ),
    "rating_changes_on_confirm": _sqlite_trigger(
        "rating_changes_on_confirm",
        "AFTER UPDATE OF confirmed ON artists",
        "NEW.confirmed <> OLD.confirmed",
        COUNT_CONFIRMED,
    ),
}


def _pg_trainable(row: str, artist: str) -> str:
    return f"({row}.source IN ({TRAINABLE}) AND COALESCE({artist}.confirmed, false))"


def _pg_count(select_from: str, where: str) -> str:
    return f"""
BEGIN
    INSERT INTO rating_changes (at, changes)
    SELECT clock_timestamp(), count(*) {select_from} WHERE {where} HAVING count(*) > 0;
    RETURN NULL;
END"""


# name: (trigger event and transition tables, function body)
PG_TRIGGERS = {
    "rating_changes_on_insert": (
        "AFTER INSERT ON ratings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
        _pg_count(
            "FROM new_rows AS n LEFT JOIN artists AS a ON a.id = n.artist_id",
            _pg_trainable("n", "a"),
        ),
    ),
    "rating_changes_on_update": (
        "AFTER UPDATE ON ratings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT",
        _pg_count(
            "FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id "
            "LEFT JOIN artists AS oa ON oa.id = o.artist_id "
            "LEFT JOIN artists AS na ON na.id = n.artist_id",
            _changed(_pg_trainable("o", "oa"), _pg_trainable("n", "na"), "o", "n"),
        ),
    ),
    "rating_changes_on_delete": (
        "AFTER DELETE ON ratings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
        _pg_count(
            "FROM old_rows AS o LEFT JOIN artists AS a ON a.id = o.artist_id",
            _pg_trainable("o", "a"),
        ),
    ),
    "rating_changes_on_confirm": (
        "AFTER UPDATE OF confirmed ON artists FOR EACH ROW "
        "WHEN (OLD.confirmed IS DISTINCT FROM NEW.confirmed)",
        _pg_count("FROM ratings", f"artist_id = NEW.id AND source IN ({TRAINABLE})"),
    ),
}
PG_TABLES = {
    "rating_changes_on_insert": "ratings",
    "rating_changes_on_update": "ratings",
    "rating_changes_on_delete": "ratings",
    "rating_changes_on_confirm": "artists",
}


def upgrade() -> None:
    op.create_table(
        "rating_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_changes")),
        sqlite_autoincrement=True,  # ids only grow, even after old counts are forgotten
    )
    op.create_index(op.f("ix_rating_changes_at"), "rating_changes", ["at"])
    _replace_source_check(NEW_SOURCES)
    # Every statement below is built from this module's constants, never from input.
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)
    else:
        for name, (event, body) in PG_TRIGGERS.items():
            op.execute(  # nosemgrep: security.sql-built-from-strings
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                f"AS $body${body}$body$"
            )
            op.execute(  # nosemgrep: security.sql-built-from-strings
                f"CREATE TRIGGER {name} {event} EXECUTE FUNCTION {name}()"
            )
    now = SQLITE_NOW if op.get_bind().dialect.name == "sqlite" else "CURRENT_TIMESTAMP"
    op.execute(  # nosemgrep: security.sql-built-from-strings
        f"INSERT INTO rating_changes (at, changes) SELECT {now}, n FROM "  # nosec B608: module constants
        "(SELECT count(*) AS n FROM ratings JOIN artists ON artists.id = ratings.artist_id "
        f"WHERE artists.confirmed AND ratings.source IN ({TRAINABLE})) AS counted WHERE n > 0"
    )


def downgrade() -> None:
    # Names formatted into SQL here are this module's constants, never input.
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(  # nosemgrep: security.sql-built-from-strings
                f"DROP TRIGGER IF EXISTS {name}"
            )
    else:
        for name, table in PG_TABLES.items():
            op.execute(  # nosemgrep: security.sql-built-from-strings
                f"DROP TRIGGER IF EXISTS {name} ON {table}"
            )
            op.execute(  # nosemgrep: security.sql-built-from-strings
                f"DROP FUNCTION IF EXISTS {name}()"
            )
    op.drop_index(op.f("ix_rating_changes_at"), table_name="rating_changes")
    op.drop_table("rating_changes")
    # The older schema has no "file": such ratings stay untrainable as "spotify".
    op.execute("UPDATE ratings SET source = 'spotify' WHERE source = 'file'")
    _replace_source_check(OLD_SOURCES)


def _replace_source_check(sources: str) -> None:
    name = op.f("ck_ratings_source_known")
    if op.get_bind().dialect.name == "sqlite":
        # A child table only (nothing refers to ratings): the copy runs with foreign keys on.
        with op.batch_alter_table("ratings", recreate="always") as batch_op:
            batch_op.drop_constraint(name, type_="check")
            batch_op.create_check_constraint(name, f"source IN ({sources})")
        return
    op.drop_constraint(name, "ratings", type_="check")
    op.create_check_constraint(name, "ratings", f"source IN ({sources})")
