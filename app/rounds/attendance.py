"""Who attended an occurrence: recorded once it has begun, counted for the programme."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import User
from app.core.clock import utcnow
from app.core.errors import Unprocessable
from app.core.principal import Principal, Role
from app.rounds.errors import OccurrenceCancelled, OccurrenceNotStarted, flush_unique
from app.rounds.models import RoundAttendance, RoundSeries
from app.rounds.occurrences import resolve_occurrence


async def record_attendance(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str, data: dict[str, Any]
) -> tuple[RoundAttendance, bool]:
    original, exc = await resolve_occurrence(session, series, start)
    if exc is not None and exc.cancelled:
        raise OccurrenceCancelled("That occurrence was cancelled.")
    begins = exc.moved_to if exc is not None and exc.moved_to else original
    if begins > utcnow():
        # Counting people in a round not yet held would inflate the programme's figures.
        raise OccurrenceNotStarted("Record attendance once the occurrence has begun.")
    user = await session.get(User, data["user_id"])
    if user is None:
        raise Unprocessable(
            "No such user.", errors=[{"pointer": "/user_id", "detail": "no such user"}]
        )
    row = await session.scalar(
        select(RoundAttendance).where(
            col(RoundAttendance.series_id) == series.id,
            col(RoundAttendance.occurrence_start) == original,
            col(RoundAttendance.user_id) == user.id,
        )
    )
    created = row is None
    if row is None:
        row = RoundAttendance(series_id=series.id, occurrence_start=original, user_id=user.id)
        session.add(row)
    row.attended = data["attended"]
    row.local = user.role == Role.clinician and user.organization_id == series.host_organization_id
    row.recorded_by_id, row.updated_at = p.id, utcnow()
    await flush_unique(session, "Attendance for this person")
    return row, created


async def attendance(
    session: AsyncSession, series: RoundSeries, start: str
) -> list[RoundAttendance]:
    original, _ = await resolve_occurrence(session, series, start)
    return list(
        (
            await session.scalars(
                select(RoundAttendance)
                .where(
                    col(RoundAttendance.series_id) == series.id,
                    col(RoundAttendance.occurrence_start) == original,
                )
                .order_by(col(RoundAttendance.id))
            )
        ).all()
    )
