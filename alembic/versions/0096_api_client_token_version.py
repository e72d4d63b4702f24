"""api_client: a token version (`tv` in its tokens), bumped when its secret is replaced or
it is switched off, so the tokens minted before are refused; existing clients start at 0,
as do the tokens they hold (minted without the claim)

Revision ID: 0096
Revises: 0095
Create Date: 2026-12-06 20:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0096'
down_revision: str | Sequence[str] | None = '0095'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('token_version', sa.Integer(), server_default=sa.text('0'), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.drop_column('token_version')
