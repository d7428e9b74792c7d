"""spellings of shared artists proposed by listeners' Spotify imports

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

``artist_spellings`` keeps, per artist and user, the spelling the user's Spotify import gave a
shared artist whose name it spells differently (case, accents: "Sigur Rós" for the starter
data's "Sigur Ros"); one user's proposal never renames anything, enough listeners agreeing
does (``db.spellings``). ``artists.renames`` counts the renames so applied: the search index's
catalogue version sums it, so a rename rebuilds every process's index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "artist_spellings",
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("spelling", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artist_id"],
            ["artists.id"],
            name=op.f("fk_artist_spellings_artist_id_artists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_artist_spellings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("artist_id", "user_id", name=op.f("pk_artist_spellings")),
    )
    op.create_index("ix_artist_spellings_user_id", "artist_spellings", ["user_id"], unique=False)
    # In place, not batch mode: copying artists on SQLite trips 0010's triggers that name it.
    op.add_column(
        "artists",
        sa.Column("renames", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.drop_column("artists", "renames")  # SQLite has DROP COLUMN since 3.35
    op.drop_index("ix_artist_spellings_user_id", table_name="artist_spellings")
    op.drop_table("artist_spellings")
