"""Specialist profiles, and the normalised rows that let matching rank 100,000 of them in SQL.

The profile keeps what a reader sees (specialties, languages, windows, time off as JSON);
the side tables hold the same facts in a shape indexes can serve: one row per specialty,
per language (primary subtag), per weekly window (minutes from Monday 00:00 local time),
per time-off span (UTC).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, text
from sqlmodel import Field, SQLModel

from app.core.db import Timestamped, json_field, ts_field

MINUTES_PER_WEEK = 7 * 24 * 60


class SpecialistProfile(Timestamped, table=True):
    __tablename__ = "specialist_profile"
    __table_args__ = (
        # The ranking's driving filter after the specialty join.
        Index("ix_specialist_profile_ready", "verified", "accepting", "user_id"),
    )

    user_id: str = Field(foreign_key="user.id", primary_key=True, max_length=40)
    specialties: list[str] = json_field()
    languages: list[str] = json_field()
    timezone: str = Field(default="UTC", max_length=64, index=True)
    availability: list[dict[str, Any]] = json_field()
    time_off: list[dict[str, Any]] = json_field()
    max_active_cases: int = 3
    accepting: bool = True
    verified: bool = False
    verified_by_id: str | None = Field(default=None, max_length=40)
    verified_at: datetime | None = ts_field(default=None)
    # Responsiveness history, kept by matching as offers are answered or lapse.
    offers_accepted: int = 0
    offers_declined: int = 0
    offers_expired: int = 0
    last_assigned_at: datetime | None = ts_field(default=None)
    version: int = 1


ROSTER_COLUMNS = (
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
)


class SpecialistSpecialty(SQLModel, table=True):
    """The matching roster: one row per (specialty, specialist) carrying what ranking reads,
    so ranking one specialty is a range scan of this table (clustered by specialty on
    SQLite) plus a few index probes per row, with no join. Rebuilt from the profile on
    every write; the counters are copied from the profile and bumped with it."""

    __tablename__ = "specialist_specialty"
    __table_args__ = (
        Index("ix_specialist_specialty_user", "user_id"),
        # PostgreSQL does not cluster rows: this covering index gives ranking an index-only
        # scan of one specialty. SQLite's WITHOUT ROWID table already is that scan, so there
        # the index is an empty partial one (same schema names on both, nothing to keep).
        Index(
            "ix_specialist_specialty_roster",
            "specialty",
            "ready",
            "user_id",
            postgresql_include=list(ROSTER_COLUMNS),
            sqlite_where=text("0"),
        ),
        {"sqlite_with_rowid": False},
    )

    specialty: str = Field(primary_key=True, max_length=60)
    user_id: str = Field(foreign_key="specialist_profile.user_id", primary_key=True, max_length=40)
    ready: bool = False  # verified and accepting
    timezone: str = Field(default="UTC", max_length=64)
    max_active_cases: int = 3
    # Primary language subtags as ",es,en,": a LIKE per row instead of a probe per row.
    language_key: str = Field(default=",", max_length=200)
    # The weekly windows as hours of the week (local) touched by a window, 56 per word:
    # a bit test tells "maybe available this hour" without a lookup per row.
    hours_0: int = Field(default=0, sa_type=BigInteger)
    hours_1: int = Field(default=0, sa_type=BigInteger)
    hours_2: int = Field(default=0, sa_type=BigInteger)
    offers_accepted: int = 0
    offers_declined: int = 0
    offers_expired: int = 0
    last_assigned_at: datetime | None = ts_field(default=None)


class SpecialistLanguage(SQLModel, table=True):
    """One row per primary language subtag ("es" for "es-AR"): matching compares those."""

    __tablename__ = "specialist_language"
    __table_args__ = (Index("ix_specialist_language_code_user", "language", "user_id"),)

    user_id: str = Field(foreign_key="specialist_profile.user_id", primary_key=True, max_length=40)
    language: str = Field(primary_key=True, max_length=8)


class SpecialistWindow(SQLModel, table=True):
    """A weekly window in the specialist's own zone, as minutes from Monday 00:00."""

    __tablename__ = "specialist_window"
    __table_args__ = (
        Index("ix_specialist_window_user_start", "user_id", "start_minute", "end_minute"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="specialist_profile.user_id", max_length=40)
    start_minute: int
    end_minute: int


class SpecialistTimeOff(SQLModel, table=True):
    __tablename__ = "specialist_time_off"
    __table_args__ = (Index("ix_specialist_time_off_user_span", "user_id", "start_at", "end_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="specialist_profile.user_id", max_length=40)
    start_at: datetime = ts_field()
    end_at: datetime = ts_field()


class SpecialistZone(SQLModel, table=True):
    """Every time zone a specialist has used: ranking computes the local time once per zone
    from this short list instead of scanning the roster for its distinct zones."""

    __tablename__ = "specialist_zone"

    timezone: str = Field(primary_key=True, max_length=64)
