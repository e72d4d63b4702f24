"""The measures' per-case timing table: each case's milestones as whole seconds since 1970.

Durations are differences of these integers, so both databases sort and interpolate the very
same numbers, and a programme-wide query reads one narrow table instead of converting
timestamps and joining 300,000 messages and notes on every request. It is kept current by
`rollup.catch_up` (run before each query and by the worker)."""

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel


class CaseTiming(SQLModel, table=True):
    __tablename__ = "case_timing"
    __table_args__ = (
        Index("ix_case_timing_org_created", "organization_id", "created_s"),
        Index("ix_case_timing_specialty_created", "specialty", "created_s"),
        Index("ix_case_timing_created", "created_s"),
        # Percentiles walk these in order instead of sorting every case on every request.
        Index("ix_case_timing_accept", "accept_s"),
        Index("ix_case_timing_response", "response_s"),
        Index("ix_case_timing_signed", "signed_s"),
    )

    case_id: str = Field(primary_key=True, max_length=40)
    organization_id: str = Field(max_length=40)
    specialty: str = Field(max_length=60)
    status: str = Field(max_length=12)
    created_s: int = Field(sa_column=Column(BigInteger, nullable=False))
    respond_by_s: int = Field(sa_column=Column(BigInteger, nullable=False))
    assigned_s: int | None = Field(default=None, sa_column=Column(BigInteger))
    # The first message a specialist wrote in the case's room.
    first_response_s: int | None = Field(default=None, sa_column=Column(BigInteger))
    # The first consult note signed (the case's answer).
    first_signed_s: int | None = Field(default=None, sa_column=Column(BigInteger))
    # The three durations the measures report, in seconds from submission.
    accept_s: int | None = Field(default=None, sa_column=Column(BigInteger))
    response_s: int | None = Field(default=None, sa_column=Column(BigInteger))
    signed_s: int | None = Field(default=None, sa_column=Column(BigInteger))
    # Counts the shares are made of, so a filtered request reads only this table.
    offers_accepted: int = 0
    # Accepted, declined or expired (pending and withdrawn offers say nothing of willingness).
    offers_answered: int = 0
    signed_notes: int = 0
    acknowledged_notes: int = 0
    feedback_count: int = 0
    usefulness_sum: int = 0
    changed_management_count: int = 0


class ReportingState(SQLModel, table=True):
    """Where the timing table's catch-up stopped last time."""

    __tablename__ = "reporting_state"

    key: str = Field(primary_key=True, max_length=40)
    value: int = Field(sa_column=Column(BigInteger, nullable=False))
