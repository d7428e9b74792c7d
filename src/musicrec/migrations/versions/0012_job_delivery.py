"""jobs that never stall or run twice

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

``jobs.sent_at`` is when the job's id was last handed to the task queue and ``deliveries`` how
often: a job still queued long after its last delivery, whose id the queue no longer holds, had
its message lost and is sent again (``services.job_running.redeliver_lost_jobs``), then failed
after a few tries. ``attempts`` (since 0006) is the fencing token of a run.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("deliveries", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("deliveries")
        batch_op.drop_column("sent_at")
