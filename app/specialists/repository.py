"""SQL pieces shared by the specialist directory and matching: the per-zone clock, the
active-case count, time off and availability as WHERE-able expressions."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    case,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case, CaseStatus
from app.specialists.availability import minute_of_week
from app.specialists.models import (
    SpecialistLanguage,
    SpecialistProfile,
    SpecialistTimeOff,
    SpecialistWindow,
    SpecialistZone,
)

P = SpecialistProfile
_case = Case.__table__  # type: ignore[attr-defined]
_win = SpecialistWindow.__table__  # type: ignore[attr-defined]
_off = SpecialistTimeOff.__table__  # type: ignore[attr-defined]
_lang = SpecialistLanguage.__table__  # type: ignore[attr-defined]
_prof = SpecialistProfile.__table__  # type: ignore[attr-defined]

# Work still owed: a case counts against capacity from acceptance until its note is signed.
ACTIVE_STATUSES = (CaseStatus.assigned.value,)


def active_cases(user_id_col: Any) -> Any:
    """Scalar subquery: the specialist's open assigned cases (index-only probe)."""
    return (
        select(func.count())
        .select_from(_case)
        .where(_case.c.assigned_specialist_id == user_id_col, _case.c.status.in_(ACTIVE_STATUSES))
        .scalar_subquery()
    )


def on_time_off(user_id_col: Any, at: Any) -> Any:
    return exists().where(_off.c.user_id == user_id_col, _off.c.start_at <= at, _off.c.end_at > at)


def in_window(user_id_col: Any, mow_col: Any) -> Any:
    return exists().where(
        _win.c.user_id == user_id_col, _win.c.start_minute <= mow_col, _win.c.end_minute > mow_col
    )


def speaks_any(user_id_col: Any, languages: list[str]) -> Any:
    return exists().where(_lang.c.user_id == user_id_col, _lang.c.language.in_(languages))


def local_minute(zones: Iterable[str], at: datetime, zone_col: Any) -> Any:
    """The local minute of the week at `at` in the row's own zone, as a CASE over the zones
    in play (computed in Python once per zone, not once per specialist). A CASE rather than
    a join, so the planner keeps driving the query from the specialty index."""
    whens = [(zone_col == z, minute_of_week(at, z)) for z in sorted(set(zones))]
    if not whens:
        return literal(-1, Integer)
    return case(*whens, else_=-1)


async def zones_in_play(session: AsyncSession) -> list[str]:
    """Every zone any specialist uses (a short list kept beside the profiles)."""
    zone = SpecialistZone.__table__.c.timezone  # type: ignore[attr-defined]
    return list((await session.scalars(select(zone))).all())


def primary_subtags(tags: Iterable[str]) -> list[str]:
    return sorted({t.split("-")[0].lower() for t in tags})
