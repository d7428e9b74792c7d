"""failed log-ins counted in the database, shared by every worker

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failed_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(length=400), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_logins")),
    )
    op.create_index("ix_failed_logins_account_key_at", "failed_logins", ["account_key", "at"])
    op.create_index("ix_failed_logins_client_at", "failed_logins", ["client", "at"])
    op.create_index("ix_failed_logins_device_at", "failed_logins", ["device", "at"])


def downgrade() -> None:
    op.drop_table("failed_logins")
