"""rate limits counted in the database, for the whole server

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

``rate_limit_counters`` holds one fixed-window counter per limit key (the client's address and
the limit's scope), so every worker and every server on this database counts alike
(``musicrec.web.limits_storage``). ``expires_at`` is in seconds since the epoch; expired rows
are deleted as the limiter goes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index(
        "ix_rate_limit_counters_expires_at", "rate_limit_counters", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
