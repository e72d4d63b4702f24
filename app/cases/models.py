"""Cases (consult requests) and the people added to them."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from app.core.db import Timestamped, json_field, new_id, ts_field, utcnow


class CaseStatus(StrEnum):
    submitted = "submitted"
    offered = "offered"
    assigned = "assigned"
    answered = "answered"
    closed = "closed"
    unmatched = "unmatched"
    cancelled = "cancelled"


class Urgency(StrEnum):
    routine = "routine"
    urgent = "urgent"
    emergency = "emergency"


class Case(Timestamped, table=True):
    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_org_id", "organization_id", "id"),
        Index("ix_case_status_id", "status", "id"),
    )

    id: str = Field(default_factory=lambda: new_id("case"), primary_key=True, max_length=40)
    organization_id: str = Field(foreign_key="organization.id", max_length=40)
    submitted_by_id: str | None = Field(default=None, foreign_key="user.id", max_length=40)
    # Set when an API client submitted on the facility's behalf.
    submitted_by_client_id: str | None = Field(default=None, max_length=40)
    specialty: str = Field(max_length=60, index=True)
    urgency: str = Field(max_length=12)
    question: str = Field(max_length=4000)
    summary: str = Field(default="", max_length=20000)
    patient_reference: str = Field(max_length=100)
    patient_age_years: float | None = None
    patient_sex: str | None = Field(default=None, max_length=10)
    languages: list[str] = json_field()
    interpreter_needed: bool = False
    consent_method: str = Field(max_length=40)
    follow_up_of_id: str | None = Field(default=None, foreign_key="case.id", max_length=40)
    status: str = Field(default=CaseStatus.submitted.value, max_length=12)
    respond_by: datetime = ts_field()
    assigned_specialist_id: str | None = Field(
        default=None, foreign_key="user.id", index=True, max_length=40
    )
    assigned_at: datetime | None = ts_field(default=None)
    answered_at: datetime | None = ts_field(default=None)
    closed_at: datetime | None = ts_field(default=None)
    cancelled_at: datetime | None = ts_field(default=None)
    outcome: str | None = Field(default=None, max_length=4000)
    cancel_reason: str | None = Field(default=None, max_length=1000)
    # Set once when respond_by passes with no signed note (app.cases.overdue); it stays, as
    # the record that the deadline was missed.
    overdue: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Bumped on every change; the ETag of the case.
    version: int = 1


class CaseListing(SQLModel, table=True):
    """Each case's JSON as GET /cases lists it, in both views, kept by the database: a
    trigger rewrites the row whenever its case is written (app.cases.listing)."""

    __tablename__ = "case_listing"

    case_id: str = Field(foreign_key="case.id", primary_key=True, max_length=40, ondelete="CASCADE")
    full_json: str = Field(sa_type=Text)
    summary_json: str = Field(sa_type=Text)


class CaseParticipant(SQLModel, table=True):
    """An interpreter or second specialist added to one case: they see that case, no other."""

    __tablename__ = "case_participant"
    __table_args__ = (UniqueConstraint("case_id", "user_id", name="uq_case_participant_user"),)

    id: str = Field(default_factory=lambda: new_id("cp"), primary_key=True, max_length=40)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=40)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=40)
    role: str = Field(max_length=20)  # interpreter | specialist
    added_by_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = ts_field(default_factory=utcnow)


class Attachment(Timestamped, table=True):
    """A file sent with a case (a photo of a rash, an ECG, a lab PDF), stored under data_dir.

    The bytes live on disk at `storage_key` (relative to Settings.data_dir, named by id, never
    by the uploaded name); the type is the one detected from the bytes."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_case_id_id", "case_id", "id"),)

    id: str = Field(default_factory=lambda: new_id("att"), primary_key=True, max_length=40)
    case_id: str = Field(foreign_key="case.id", max_length=40)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=60)
    size_bytes: int
    sha256: str = Field(max_length=64)
    description: str | None = Field(default=None, max_length=500)
    storage_key: str = Field(max_length=200)
    uploaded_by_id: str | None = Field(default=None, max_length=40)


class OfferStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"  # another specialist accepted first, or the case was cancelled


class Offer(Timestamped, table=True):
    __tablename__ = "offer"
    __table_args__ = (
        # A specialist's inbox, newest first (by id, as its cursor pages): read in order from
        # the index, no sort (91 pending offers: 162 -> 92 us on SQLite).
        Index("ix_offer_specialist_status_id", "specialist_id", "status", "id"),
        Index("ix_offer_status_expires", "status", "expires_at"),
        # A case's offers in a status (an accept withdraws the others still pending). Two
        # equalities, so SQLite takes it over the status index even without statistics: with
        # one each, it chose by the indexes' order in the schema, and in one database walked
        # every pending offer (1 ms an accept among 11,000).
        Index("ix_offer_case_status", "case_id", "status"),
        # One live offer per specialist per case. Automatic re-offers go down the ranking; a
        # coordinator may offer the case again to someone whose offer lapsed, as a new offer,
        # so the one that expired stays in the case's record.
        Index(
            "uq_offer_case_specialist_pending",
            "case_id",
            "specialist_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: str = Field(default_factory=lambda: new_id("off"), primary_key=True, max_length=40)
    case_id: str = Field(foreign_key="case.id", max_length=40)
    specialist_id: str = Field(foreign_key="user.id", max_length=40)
    status: str = Field(default=OfferStatus.pending.value, max_length=12)
    rank: int = 0
    score: float = 0.0
    score_parts: dict[str, Any] = json_field(default_factory=dict)
    interpreter_needed: bool = False
    offered_by_id: str | None = Field(default=None, max_length=40)  # None: automatic
    expires_at: datetime = ts_field()
    responded_at: datetime | None = ts_field(default=None)
    decline_reason: str | None = Field(default=None, max_length=1000)
