"""specialist profiles and matching

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 12:48:26.000432
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.core.db

revision: str = "0004"
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "specialist_profile",
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("availability", sa.JSON(), nullable=False),
        sa.Column("time_off", sa.JSON(), nullable=False),
        sa.Column("max_active_cases", sa.Integer(), nullable=False),
        sa.Column("accepting", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verified_by_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("verified_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offers_accepted", sa.Integer(), nullable=False),
        sa.Column("offers_declined", sa.Integer(), nullable=False),
        sa.Column("offers_expired", sa.Integer(), nullable=False),
        sa.Column("last_assigned_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_specialist_profile_user_id_user")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_specialist_profile")),
    )
    with op.batch_alter_table("specialist_profile", schema=None) as batch_op:
        batch_op.create_index(
            "ix_specialist_profile_ready", ["verified", "accepting", "user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_specialist_profile_timezone"), ["timezone"], unique=False
        )

    op.create_table(
        "specialist_language",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["specialist_profile.user_id"],
            name=op.f("fk_specialist_language_user_id_specialist_profile"),
        ),
        sa.PrimaryKeyConstraint("user_id", "language", name=op.f("pk_specialist_language")),
    )
    with op.batch_alter_table("specialist_language", schema=None) as batch_op:
        batch_op.create_index(
            "ix_specialist_language_code_user", ["language", "user_id"], unique=False
        )

    op.create_table(
        "specialist_specialty",
        sa.Column("specialty", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("max_active_cases", sa.Integer(), nullable=False),
        sa.Column("language_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("hours_0", sa.BigInteger(), nullable=False),
        sa.Column("hours_1", sa.BigInteger(), nullable=False),
        sa.Column("hours_2", sa.BigInteger(), nullable=False),
        sa.Column("offers_accepted", sa.Integer(), nullable=False),
        sa.Column("offers_declined", sa.Integer(), nullable=False),
        sa.Column("offers_expired", sa.Integer(), nullable=False),
        sa.Column("last_assigned_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["specialist_profile.user_id"],
            name=op.f("fk_specialist_specialty_user_id_specialist_profile"),
        ),
        sa.PrimaryKeyConstraint("specialty", "user_id", name=op.f("pk_specialist_specialty")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("specialist_specialty", schema=None) as batch_op:
        batch_op.create_index("ix_specialist_specialty_user", ["user_id"], unique=False)
    # An index-only scan of one specialty on PostgreSQL; on SQLite the WITHOUT ROWID table
    # already is that scan, so the index there is an empty partial one.
    op.create_index(
        "ix_specialist_specialty_roster",
        "specialist_specialty",
        ["specialty", "ready", "user_id"],
        unique=False,
        sqlite_where=sa.text("0"),
        postgresql_include=[
            "language_key",
            "timezone",
            "max_active_cases",
            "hours_0",
            "hours_1",
            "hours_2",
            "offers_accepted",
            "offers_declined",
            "offers_expired",
            "last_assigned_at",
        ],
    )

    op.create_table(
        "specialist_time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("start_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["specialist_profile.user_id"],
            name=op.f("fk_specialist_time_off_user_id_specialist_profile"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specialist_time_off")),
    )
    with op.batch_alter_table("specialist_time_off", schema=None) as batch_op:
        batch_op.create_index(
            "ix_specialist_time_off_user_span", ["user_id", "start_at", "end_at"], unique=False
        )

    op.create_table(
        "specialist_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["specialist_profile.user_id"],
            name=op.f("fk_specialist_window_user_id_specialist_profile"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specialist_window")),
    )
    with op.batch_alter_table("specialist_window", schema=None) as batch_op:
        batch_op.create_index(
            "ix_specialist_window_user_start",
            ["user_id", "start_minute", "end_minute"],
            unique=False,
        )

    op.create_table(
        "specialist_zone",
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("timezone", name=op.f("pk_specialist_zone")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_specialist_status",
            ["assigned_specialist_id", "status", "organization_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_case_status_specialist", ["status", "assigned_specialist_id"], unique=False
        )
        batch_op.create_index(
            "ix_case_org_specialist", ["organization_id", "assigned_specialist_id"], unique=False
        )

    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_offer_case_specialist", ["case_id", "specialist_id"])


def downgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_constraint("uq_offer_case_specialist", type_="unique")

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_specialist_status")
        batch_op.drop_index("ix_case_status_specialist")
        batch_op.drop_index("ix_case_org_specialist")

    op.drop_table("specialist_zone")
    op.drop_table("specialist_window")
    op.drop_table("specialist_time_off")
    op.drop_table("specialist_specialty")
    op.drop_table("specialist_language")
    op.drop_table("specialist_profile")
