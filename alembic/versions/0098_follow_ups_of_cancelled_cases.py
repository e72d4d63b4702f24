"""follow_up: the open follow-ups of cases cancelled before now are cancelled, as cancelling
a case does from now on (app/followups/listeners.py); left open, they stayed late in every
list, and a cancelled case's page offers no way to end them

Revision ID: 0098
Revises: 0097
Create Date: 2026-12-07 05:05:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0098'
down_revision: str | Sequence[str] | None = '0097'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE follow_up SET status = 'cancelled', completed_at = CURRENT_TIMESTAMP, "
        "updated_at = CURRENT_TIMESTAMP, version = version + 1 "
        "WHERE status = 'open' AND case_id IN (SELECT id FROM \"case\" WHERE status = 'cancelled')"
    )


def downgrade() -> None:
    # Which of them were open before cannot be told from those cancelled by hand: kept.
    pass
