"""FHIR Appointment: one occurrence of a round series, under the rounds' own visibility rule
(app.rounds.access). Occurrences are expanded from each series' rule, never stored, so a
search covers a window of time: from its lower `date` bound (now when none) to its upper
bound (90 days later when none), at most two years."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.clock import utcnow
from app.core.errors import NotFound
from app.core.principal import Principal
from app.fhir import resources as fhir
from app.fhir.search import Search, date_matches, tokens, window
from app.fhir.service import FhirNotFound, tagged
from app.rounds import service as rounds
from app.rounds.models import RoundSeries

DEFAULT_SPAN = timedelta(days=90)
LONGEST = timedelta(days=730)
# Every occurrence in a window is listed to count them: a window holds at most this many.
MAX_OCCURRENCES = 10_000


def _appointment(series: RoundSeries, occ: dict[str, Any], people: list[Any]) -> dict[str, Any]:
    return fhir.appointment(
        series,
        occ["original_start"],
        occ["start"],
        occ["end"],
        occ["cancelled"],
        people,
        utcnow(),
    )


async def read_appointment(
    session: AsyncSession, p: Principal, occurrence: str
) -> tuple[dict[str, Any], str]:
    """One round occurrence, under the rounds' own visibility rule."""
    parsed = fhir.parse_occurrence_id(occurrence)
    if parsed is None:
        raise FhirNotFound("No such appointment.")
    series_id, start = parsed
    try:
        series = await rounds.get_series(session, p, series_id)
        original, exc = await rounds.resolve_occurrence(session, series, start.isoformat())
    except NotFound as e:
        raise FhirNotFound("No such appointment.") from e
    begins, minutes, cancelled = original, series.duration_minutes, False
    if exc is not None:
        cancelled = exc.cancelled
        begins = exc.moved_to or original
        minutes = exc.moved_duration_minutes or minutes
    occ = {
        "original_start": original,
        "start": begins,
        "end": begins + timedelta(minutes=minutes),
        "cancelled": cancelled,
    }
    people = await rounds.list_participants(session, series)
    return tagged(_appointment(series, occ, people))


def _status(occ: dict[str, Any], now: datetime) -> str:
    return "cancelled" if occ["cancelled"] else ("fulfilled" if occ["end"] <= now else "booked")


async def search_appointments(
    session: AsyncSession,
    p: Principal,
    s: Search,
    *,
    date: list[str] | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Occurrences of the rounds the caller may see, by start then id."""
    now = utcnow()
    lo, hi = window(date, now, DEFAULT_SPAN, LONGEST)
    wanted = set(tokens(status))
    found: list[tuple[datetime, str, RoundSeries, dict[str, Any]]] = []
    if hi > lo:
        stmt = select(RoundSeries).where(
            rounds.visible_series(p),
            col(RoundSeries.starts_at) < hi,
            or_(col(RoundSeries.ends_at).is_(None), col(RoundSeries.ends_at) > lo - LONGEST),
        )
        for series in (await session.scalars(stmt.order_by(col(RoundSeries.id)))).all():
            occs, _ = await rounds.occurrences(
                session, series, lo, hi, MAX_OCCURRENCES, None, "cancelled" in wanted
            )
            for occ in occs:
                if not date_matches(occ["start"], date):
                    continue
                if wanted and _status(occ, now) not in wanted:
                    continue
                appt_id = fhir.occurrence_id(series.id, occ["original_start"])
                found.append((occ["start"], appt_id, series, occ))
    found.sort(key=lambda f: (f[0], f[1]))
    total = len(found)
    after = s.after()
    if after is not None:
        key = (datetime.fromisoformat(str(after[0])), str(after[1]))
        found = [f for f in found if (f[0], f[1]) > key]
    page = found[: s.count]
    nxt = None
    if len(found) > s.count and page:
        nxt = s.next_url([page[-1][0].isoformat(), page[-1][1]])
    people: dict[str, list[Any]] = {}
    out = []
    for _, _, series, occ in page:
        if series.id not in people:
            people[series.id] = await rounds.list_participants(session, series)
        out.append(_appointment(series, occ, people[series.id]))
    return fhir.bundle(s.self_url(), out, s.base, total, nxt)
