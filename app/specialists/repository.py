"""SQL pieces shared by the specialist directory and matching: the per-zone clock, the
active-case count, time off and availability as WHERE-able expressions."""

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnExpressionArgument,
    Integer,
    ScalarSelect,
    case,
    exists,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.registry import domain_modules
from app.specialists.availability import minute_of_week
from app.specialists.models import (
    SpecialistLanguage,
    SpecialistProfile,
    SpecialistTimeOff,
    SpecialistWindow,
    SpecialistZone,
)

P = SpecialistProfile
_win = SpecialistWindow.__table__  # type: ignore[attr-defined]
_off = SpecialistTimeOff.__table__  # type: ignore[attr-defined]
_lang = SpecialistLanguage.__table__  # type: ignore[attr-defined]
_prof = SpecialistProfile.__table__  # type: ignore[attr-defined]

ActiveCases = Callable[[ColumnExpressionArgument[str] | str], ScalarSelect[int]]


def active_cases(user_id: ColumnExpressionArgument[str] | str) -> ScalarSelect[int]:
    """Scalar subquery: the specialist's open assigned cases.

    Cases are not ours to read (cases import specialists, never the reverse): the domain
    that assigns cases provides the count in its `workload.py`, found by name."""
    return _workload()(user_id)


@cache
def _workload() -> ActiveCases:
    found = domain_modules("workload")
    if len(found) != 1:
        raise RuntimeError("Exactly one domain must provide workload.active_cases.")
    count: ActiveCases = found[0].active_cases
    return count


def on_time_off(user_id_col: Any, at: Any) -> Any:
    return exists().where(_off.c.user_id == user_id_col, _off.c.start_at <= at, _off.c.end_at > at)


def time_off_within(user_id_col: Any, start: Any, end: Any) -> Any:
    """Time off that overlaps [start, end): under way at `start`, or beginning before `end`
    (matching: before the case's deadline, when the answer is due)."""
    return exists().where(
        _off.c.user_id == user_id_col, _off.c.start_at < end, _off.c.end_at > start
    )


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
