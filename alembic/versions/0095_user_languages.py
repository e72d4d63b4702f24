"""user: the languages a person speaks (BCP 47 tags, JSON), so a case's interpreter can be
chosen among those who speak its languages; existing accounts have none on file

Revision ID: 0095
Revises: 0094
Create Date: 2026-12-06 19:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0095'
down_revision: str | Sequence[str] | None = '0094'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('languages', sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('languages')
