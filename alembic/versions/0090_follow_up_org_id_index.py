"""follow-ups: an index on (organization_id, id), for a facility's list newest first

Revision ID: 0090
Revises: 0080
Create Date: 2026-12-04 18:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0090'
down_revision: str | Sequence[str] | None = '0080'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_follow_up_org_id', 'follow_up', ['organization_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_follow_up_org_id', table_name='follow_up')
