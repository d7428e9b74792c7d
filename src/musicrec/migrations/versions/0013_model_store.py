"""model versions stored in the database (MUSICREC_MODEL_STORE=database)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

(Placeholder: filled in by the change that needs it; until then it changes nothing.)
"""

from collections.abc import Sequence

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
