"""Consult notes: every change kept as a version; signed notes are final."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import Timestamped, new_id, ts_field


class NoteKind(StrEnum):
    consult = "consult"
    progress = "progress"
    addendum = "addendum"


class NoteStatus(StrEnum):
    draft = "draft"
    signed = "signed"


CONTENT_FIELDS = ("assessment", "recommendations", "follow_up_plan", "red_flags", "referral_advice")


# What a note must say before it is signed. A consult note answers the case, so it needs an
# assessment and recommendations; a progress note or an addendum adds to what was said and
# needs at least one field. Spaces alone say nothing. (The
# console's note page is rendered with it, to say so before asking "Sign this note?".)
NEEDED_TO_SIGN = {NoteKind.consult.value: ("assessment", "recommendations")}


class Note(Timestamped, table=True):
    __tablename__ = "note"
    __table_args__ = (
        # Serves "first signed consult note of a case" (record, metrics) from the index alone.
        Index("ix_note_case_kind_signed", "case_id", "kind", "signed_at"),
        # The share of signed notes acknowledged, counted from the index alone.
        Index("ix_note_status_ack", "status", "acknowledged_at"),
    )

    id: str = Field(default_factory=lambda: new_id("note"), primary_key=True, max_length=40)
    case_id: str = Field(foreign_key="case.id", max_length=40)
    kind: str = Field(max_length=12)
    status: str = Field(default=NoteStatus.draft.value, max_length=10)
    author_id: str = Field(foreign_key="user.id", max_length=40)
    # An addendum may name the signed note it corrects.
    amends_id: str | None = Field(default=None, foreign_key="note.id", max_length=40)
    assessment: str = Field(default="", max_length=20000)
    recommendations: str = Field(default="", max_length=20000)
    follow_up_plan: str = Field(default="", max_length=10000)
    red_flags: str = Field(default="", max_length=10000)
    referral_advice: str = Field(default="", max_length=10000)
    # The ETag; bumped by a conditional UPDATE so two edits of one version cannot both win.
    version: int = 1
    signed_at: datetime | None = ts_field(default=None)
    signed_by_id: str | None = Field(default=None, max_length=40)
    acknowledged_at: datetime | None = ts_field(default=None)
    acknowledged_by_id: str | None = Field(default=None, max_length=40)


class NoteVersion(SQLModel, table=True):
    """One saved state of a note: who wrote it and when."""

    __tablename__ = "note_version"
    __table_args__ = (UniqueConstraint("note_id", "version", name="uq_note_version_note_version"),)

    id: str = Field(default_factory=lambda: new_id("nv"), primary_key=True, max_length=40)
    note_id: str = Field(foreign_key="note.id", max_length=40)
    version: int
    status: str = Field(max_length=10)
    author_id: str = Field(max_length=40)
    assessment: str = Field(default="", max_length=20000)
    recommendations: str = Field(default="", max_length=20000)
    follow_up_plan: str = Field(default="", max_length=10000)
    red_flags: str = Field(default="", max_length=10000)
    referral_advice: str = Field(default="", max_length=10000)
    created_at: datetime = ts_field(default_factory=utcnow)
