"""one stored order for a batch of recommendations

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

Each recommendation keeps its position in its batch (0 = first), the order it was ranked in
when it was made (with the discovery penalty), so the history shows a batch as it was shown
live. Rows made before this revision get their position by score, best first, within their
batch (same user and ``created_at``), ties by id: the order the history showed until now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One statement for every row: each row's position is how many rows of its batch rank above
# it. A correlated count rather than ROW_NUMBER() in UPDATE ... FROM, which SQLite only has
# from 3.33; the (user_id, created_at) index bounds each count to one batch.
BACKFILL = """
UPDATE recommendations SET position = (
    SELECT count(*) FROM recommendations AS above
    WHERE above.user_id = recommendations.user_id
      AND above.created_at = recommendations.created_at
      AND (above.score > recommendations.score
           OR (above.score = recommendations.score AND above.id < recommendations.id))
)
"""


def upgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("position", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_column("position")
