"""Virtual rounds: recurring case conferences, their occurrences, agenda and attendance.

An occurrence is never stored as a row of its own: it is expanded from the series' rule in
the series' zone. It is named by its original start in UTC (its RECURRENCE-ID), so agenda,
attendance and exceptions keep pointing at it even when it is moved.
"""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import Timestamped, new_id, ts_field


class ParticipantRole:
    local_team = "local_team"
    specialist = "specialist"
    interpreter = "interpreter"


PARTICIPANT_ROLES = (
    ParticipantRole.local_team,
    ParticipantRole.specialist,
    ParticipantRole.interpreter,
)


class RoundSeries(Timestamped, table=True):
    __tablename__ = "round_series"
    __table_args__ = (Index("ix_round_series_org_id", "host_organization_id", "id"),)

    id: str = Field(default_factory=lambda: new_id("rnd"), primary_key=True, max_length=40)
    title: str = Field(max_length=200)
    host_organization_id: str = Field(foreign_key="organization.id", max_length=40)
    timezone: str = Field(max_length=64)
    # Wall time of the first occurrence in `timezone`, "YYYY-MM-DDTHH:MM".
    starts_at_local: str = Field(max_length=16)
    # The same instant in UTC, and the end of the last occurrence (None: no end).
    starts_at: datetime = ts_field(index=True)
    ends_at: datetime | None = ts_field(default=None, index=True)
    duration_minutes: int
    rrule: str = Field(max_length=500)
    specialty: str = Field(max_length=60, index=True)
    teaching_topic: str = Field(default="", max_length=500)
    join_url: str | None = Field(default=None, max_length=1000)
    created_by_id: str | None = Field(default=None, max_length=40)
    # A series edited "from a date on" ends (UNTIL) and continues as a new series.
    previous_series_id: str | None = Field(default=None, max_length=40, index=True)
    next_series_id: str | None = Field(default=None, max_length=40)
    deleted_at: datetime | None = ts_field(default=None)
    version: int = 1


class RoundParticipant(SQLModel, table=True):
    __tablename__ = "round_participant"
    __table_args__ = (UniqueConstraint("series_id", "user_id", name="uq_round_participant_user"),)

    id: str = Field(default_factory=lambda: new_id("rp"), primary_key=True, max_length=40)
    series_id: str = Field(foreign_key="round_series.id", index=True, max_length=40)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=40)
    role: str = Field(max_length=20)  # local_team | specialist | interpreter
    # Booked although it overlaps another of the user's rounds.
    allow_conflict: bool = False
    added_by_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = ts_field(default_factory=utcnow)


class RoundOccurrenceException(Timestamped, table=True):
    """One occurrence cancelled (an EXDATE) or moved (a RECURRENCE-ID override)."""

    __tablename__ = "round_occurrence_exception"
    __table_args__ = (
        UniqueConstraint("series_id", "occurrence_start", name="uq_round_occurrence_exception_occ"),
    )

    id: str = Field(default_factory=lambda: new_id("rox"), primary_key=True, max_length=40)
    series_id: str = Field(foreign_key="round_series.id", index=True, max_length=40)
    occurrence_start: datetime = ts_field()  # the original start, UTC
    cancelled: bool = False
    moved_to: datetime | None = ts_field(default=None)  # new start, UTC
    moved_duration_minutes: int | None = None
    reason: str | None = Field(default=None, max_length=1000)
    changed_by_id: str | None = Field(default=None, max_length=40)


class RoundAgendaItem(Timestamped, table=True):
    __tablename__ = "round_agenda_item"
    __table_args__ = (
        UniqueConstraint(
            "series_id", "occurrence_start", "case_id", name="uq_round_agenda_item_case"
        ),
        Index("ix_round_agenda_item_occ", "series_id", "occurrence_start"),
    )

    id: str = Field(default_factory=lambda: new_id("rai"), primary_key=True, max_length=40)
    series_id: str = Field(foreign_key="round_series.id", max_length=40)
    occurrence_start: datetime = ts_field()  # the original start, UTC
    case_id: str = Field(foreign_key="case.id", index=True, max_length=40)
    presenter_id: str = Field(foreign_key="user.id", max_length=40)
    position: int = 0
    recommendation: str | None = Field(default=None, max_length=8000)
    recommended_at: datetime | None = ts_field(default=None)
    recommended_by_id: str | None = Field(default=None, max_length=40)
    added_by_id: str | None = Field(default=None, max_length=40)
    version: int = 1


class RoundAttendance(Timestamped, table=True):
    __tablename__ = "round_attendance"
    __table_args__ = (
        UniqueConstraint(
            "series_id", "occurrence_start", "user_id", name="uq_round_attendance_user"
        ),
        Index("ix_round_attendance_occ", "series_id", "occurrence_start"),
    )

    id: str = Field(default_factory=lambda: new_id("rat"), primary_key=True, max_length=40)
    series_id: str = Field(foreign_key="round_series.id", max_length=40)
    occurrence_start: datetime = ts_field()  # the original start, UTC
    user_id: str = Field(foreign_key="user.id", index=True, max_length=40)
    attended: bool = True
    # Whether the person belongs to the host facility's local team (for the programme's count).
    local: bool = False
    recorded_by_id: str | None = Field(default=None, max_length=40)


class RoundReminder(SQLModel, table=True):
    """One row per occurrence reminded: the unique key keeps two workers from reminding twice."""

    __tablename__ = "round_reminder"
    __table_args__ = (
        UniqueConstraint("series_id", "occurrence_start", name="uq_round_reminder_occ"),
    )

    id: str = Field(default_factory=lambda: new_id("rrm"), primary_key=True, max_length=40)
    series_id: str = Field(foreign_key="round_series.id", index=True, max_length=40)
    occurrence_start: datetime = ts_field()
    sent_at: datetime = ts_field(default_factory=utcnow)
