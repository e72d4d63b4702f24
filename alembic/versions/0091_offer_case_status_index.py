"""offers: (case_id, status) instead of (case_id), so a case's pending offers are found by it;
(specialist_id, status, id) instead of (specialist_id, status), so an inbox reads in order

Revision ID: 0091
Revises: 0090
Create Date: 2026-12-04 21:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0091'
down_revision: str | Sequence[str] | None = '0090'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_offer_case_status', 'offer', ['case_id', 'status'], unique=False)
    op.drop_index('ix_offer_case_id', table_name='offer')
    op.create_index(
        'ix_offer_specialist_status_id', 'offer', ['specialist_id', 'status', 'id'], unique=False
    )
    op.drop_index('ix_offer_specialist_status', table_name='offer')


def downgrade() -> None:
    op.create_index(
        'ix_offer_specialist_status', 'offer', ['specialist_id', 'status'], unique=False
    )
    op.drop_index('ix_offer_specialist_status_id', table_name='offer')
    op.create_index('ix_offer_case_id', 'offer', ['case_id'], unique=False)
    op.drop_index('ix_offer_case_status', table_name='offer')
