"""account erasure: user ids never reused, erasures pending for models

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

- Artists a deleted account added and nobody confirmed lost their owner (``added_by`` ON DELETE
  SET NULL) and became everyone's: they are deleted, and a CHECK keeps every unconfirmed artist
  owned from now on (deleting an account deletes its unconfirmed additions first).
- ``erasures`` lists deleted accounts' ids, for stripping them from published model versions.
- SQLite gives a new row max(id) + 1, so a new account got the id of a deleted newest one;
  ``users``, ``artists`` and ``erasures`` become AUTOINCREMENT tables (PostgreSQL sequences
  never hand an id out twice). SQLite alters a table by copying it: ``db.migrate.upgrade``
  runs every migration with foreign keys off, so dropping the old copy cascades nowhere.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNED = "confirmed OR added_by IS NOT NULL"
NEVER_REUSED = ("users", "artists")
REFERRING_TO_ARTISTS = ("ratings", "recommendations", "dislikes", "top_songs")


def upgrade() -> None:
    artists = sa.table(
        "artists", sa.column("id"), sa.column("confirmed", sa.Boolean), sa.column("added_by")
    )
    ownerless = artists.c.confirmed.is_(sa.false()) & artists.c.added_by.is_(None)
    # Their rows elsewhere first: on SQLite the migrations run with foreign keys off.
    for name in REFERRING_TO_ARTISTS:
        referring = sa.table(name, sa.column("artist_id"))
        owned_by_nobody = sa.select(artists.c.id).where(ownerless)
        op.execute(referring.delete().where(referring.c.artist_id.in_(owned_by_nobody)))
    op.execute(artists.delete().where(ownerless))
    if op.get_bind().dialect.name != "sqlite":
        _create_erasures()
        op.create_check_constraint("owned_until_confirmed", "artists", OWNED)
        return
    _create_erasures()
    for table in NEVER_REUSED:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch_op:
            if table == "artists":
                batch_op.create_check_constraint("owned_until_confirmed", OWNED)


def _create_erasures() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
        sa.UniqueConstraint("user_id", name=op.f("uq_erasures_user_id")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("erasures")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_artists_owned_until_confirmed"), "artists", type_="check")
        return
    for table in NEVER_REUSED:
        with op.batch_alter_table(table, recreate="always") as batch_op:
            if table == "artists":
                batch_op.drop_constraint(op.f("ck_artists_owned_until_confirmed"), type_="check")
