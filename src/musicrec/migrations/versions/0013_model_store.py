"""model versions stored in the database (MUSICREC_MODEL_STORE=database)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

``model_versions`` lists each version published to the database (its ``meta.json``, the
sha256 and size of its ``arrays.npz``, and whether every chunk was written); ``model_chunks``
holds those arrays in pieces of a few megabytes, so neither PostgreSQL nor SQLite is asked for
one huge value; ``nodes`` records each running web process: the fingerprint of the settings
every node must share, the version it serves and when it was last seen.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_model_versions")),
    )
    op.create_table(
        "model_chunks",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["model_versions.name"],
            name=op.f("fk_model_chunks_version_model_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version", "seq", name=op.f("pk_model_chunks")),
    )
    op.create_table(
        "nodes",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_nodes")),
    )
    op.create_index("ix_nodes_seen_at", "nodes", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_nodes_seen_at", table_name="nodes")
    op.drop_table("nodes")
    op.drop_table("model_chunks")
    op.drop_table("model_versions")
