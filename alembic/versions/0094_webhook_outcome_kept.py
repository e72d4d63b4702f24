"""webhooks: keep what each attempt met (`outcome`, a delivery's `last_outcome`), decided
from the exception when it was met rather than read back from its text

Revision ID: 0094
Revises: 0093
Create Date: 2026-12-06 16:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0094'
down_revision: str | Sequence[str] | None = '0093'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows from before stay null: their outcome is still read from the record's text.
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('last_outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.drop_column('outcome')
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_column('last_outcome')
