"""organization: a version (the ETag), bumped on every change, so If-Match is honoured;
existing facilities start at 1

Revision ID: 0092
Revises: 0091
Create Date: 2026-12-05 22:48:34
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0092'
down_revision: str | Sequence[str] | None = '0091'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('version')
