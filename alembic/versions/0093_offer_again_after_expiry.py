"""offers: one live (pending) offer per specialist per case instead of one offer ever, so a
coordinator can offer a case again to someone whose offer expired

Revision ID: 0093
Revises: 0092
Create Date: 2026-12-06 08:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0093'
down_revision: str | Sequence[str] | None = '0092'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_constraint('uq_offer_case_specialist', type_='unique')
    op.create_index(
        'uq_offer_case_specialist_pending',
        'offer',
        ['case_id', 'specialist_id'],
        unique=True,
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    # Fails where a case was offered to someone again: which of their offers to keep is not
    # this migration's to decide.
    op.drop_index('uq_offer_case_specialist_pending', table_name='offer')
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_offer_case_specialist', ['case_id', 'specialist_id'])
