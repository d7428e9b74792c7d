"""artists added by users stay theirs until the operator confirms them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("artists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("added_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_artists_added_by_users"),
            "users",
            ["added_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_artists_added_by_created_at", ["added_by", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("artists", schema=None) as batch_op:
        batch_op.drop_index("ix_artists_added_by_created_at")
        batch_op.drop_constraint(batch_op.f("fk_artists_added_by_users"), type_="foreignkey")
        batch_op.drop_column("confirmed")
        batch_op.drop_column("added_by")
