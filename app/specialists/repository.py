"""SQL pieces shared by the specialist directory and matching: the per-zone clock, the
active-case count, time off and availability as WHERE-able expressions."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case, CaseStatus
from app.specialists.availability import minute_of_week
from app.specialists.models import (
    SpecialistLanguage,
    SpecialistProfile,
    SpecialistTimeOff,
    SpecialistWindow,
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
    return (select(func.count()).select_from(_case)
            .where(_case.c.assigned_specialist_id == user_id_col,
                   _case.c.status.in_(ACTIVE_STATUSES))
            .scalar_subquery())


def on_time_off(user_id_col: Any, at: datetime) -> Any:
    return exists().where(_off.c.user_id == user_id_col, _off.c.start_at <= at,
                          _off.c.end_at > at)


def in_window(user_id_col: Any, mow_col: Any) -> Any:
    return exists().where(_win.c.user_id == user_id_col, _win.c.start_minute <= mow_col,
                          _win.c.end_minute > mow_col)


def speaks_any(user_id_col: Any, languages: list[str]) -> Any:
    return exists().where(_lang.c.user_id == user_id_col, _lang.c.language.in_(languages))


def zone_clock(zones: Iterable[str], at: datetime) -> Any:
    """A small derived table (zone, mow): the local minute of the week in each zone at `at`.
    Computed in Python once per zone in play, then joined on the profile's zone."""
    rows = [select(literal(z, String(64)).label("zone"),
                   literal(minute_of_week(at, z), Integer).label("mow")) for z in sorted(zones)]
    if not rows:
        rows = [select(literal("", String(64)).label("zone"), literal(-1, Integer).label("mow"))]
    body = rows[0] if len(rows) == 1 else union_all(*rows)
    return body.subquery("zone_clock")


async def zones_in_play(session: AsyncSession, where: Any) -> list[str]:
    return list((await session.scalars(select(_prof.c.timezone).where(where).distinct())).all())


def primary_subtags(tags: Iterable[str]) -> list[str]:
    return sorted({t.split("-")[0].lower() for t in tags})
