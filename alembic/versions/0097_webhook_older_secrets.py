"""webhook_endpoint: secrets replaced before the previous one and still in their 24 hours
(`older_secrets`, JSON), so a second rotation within a day does not stop the secret the
receiver holds; existing endpoints have none

Revision ID: 0097
Revises: 0096
Create Date: 2026-12-06 20:35:00
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0097'
down_revision: str | Sequence[str] | None = '0096'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('older_secrets', sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.drop_column('older_secrets')
