"""follow_up_move: each time an open follow-up is planned again (a new due time or owner),
from what to what, by whom, and whether it had already fallen due. Moves made before this
revision are in the audit only (`follow_up.update`, "due_at: X -> Y").

Revision ID: 0099
Revises: 0098
Create Date: 2026-12-07 21:35:27
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.core.db

revision: str = '0099'
down_revision: str | Sequence[str] | None = '0098'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'follow_up_move',
        sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('follow_up_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('by_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('from_due_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('due_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('from_assignee_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('assignee_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('after_due', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ['follow_up_id'], ['follow_up.id'], name=op.f('fk_follow_up_move_follow_up_id_follow_up')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_move')),
    )
    with op.batch_alter_table('follow_up_move', schema=None) as batch_op:
        batch_op.create_index(
            'ix_follow_up_move_follow_up', ['follow_up_id', 'created_at'], unique=False
        )
        batch_op.create_index('ix_follow_up_move_late', ['after_due', 'from_due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('follow_up_move', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_move_late')
        batch_op.drop_index('ix_follow_up_move_follow_up')
    op.drop_table('follow_up_move')
