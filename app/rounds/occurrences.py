"""Occurrences: expanded from the series' rule, named by their original start in UTC, and
changed one at a time by exceptions (a cancellation is an EXDATE, a move a RECURRENCE-ID)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.clock import utcnow
from app.core.errors import Unprocessable
from app.core.pagination import decode_cursor, encode_cursor
from app.core.principal import Principal
from app.rounds import recurrence as rec
from app.rounds.errors import (
    OccurrenceCancelled,
    OccurrenceHeld,
    OccurrenceNotFound,
    flush_unique,
    invalid_schedule,
    slot_taken,
)
from app.rounds.models import RoundAttendance, RoundOccurrenceException, RoundSeries
from app.rounds.participants import announce, plain_instant
from app.rounds.schedule import as_exceptions, exception_rows, rule_of

MAX_OCCURRENCE_RANGE = timedelta(days=731)


def occurrence_view(
    series: RoundSeries, o: rec.Occurrence, reason: str | None = None
) -> dict[str, Any]:
    tz = rec.zone(series.timezone)
    return {
        "round_id": series.id,
        "start": o.start,
        "end": o.end,
        "start_local": rec.to_local_string(o.start, tz),
        "end_local": rec.to_local_string(o.end, tz),
        "timezone": series.timezone,
        "original_start": o.original_start,
        "cancelled": o.cancelled,
        "moved": o.moved,
        "reason": reason,
    }


async def occurrences(
    session: AsyncSession,
    series: RoundSeries,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    cursor: str | None,
    include_cancelled: bool,
) -> tuple[list[dict[str, Any]], str | None]:
    start = (start or utcnow()).astimezone(UTC)
    end = (end or start + timedelta(days=90)).astimezone(UTC)
    if end <= start:
        raise Unprocessable(
            "`to` must be after `from`.",
            errors=[{"pointer": "#query/to", "detail": "must be after from"}],
        )
    if end - start > MAX_OCCURRENCE_RANGE:
        raise Unprocessable(
            "Ask for at most two years at a time.",
            errors=[{"pointer": "#query/to", "detail": "range too long"}],
        )
    after: datetime | None = None
    if cursor:
        after = datetime.fromisoformat(str(decode_cursor(cursor, "occurrence")))
    rows = await exception_rows(session, series.id)
    reasons = {r.occurrence_start: r.reason for r in rows}
    found = rec.expand(
        rule_of(series),
        timedelta(minutes=series.duration_minutes),
        start,
        end,
        as_exceptions(rows),
        include_cancelled=include_cancelled,
    )
    if after is not None:
        found = [o for o in found if o.start > after]
    page = found[:limit]
    nxt = encode_cursor(page[-1].start.isoformat(), "occurrence") if len(found) > limit else None
    return [occurrence_view(series, o, reasons.get(o.original_start)) for o in page], nxt


def parse_start(value: str) -> datetime:
    try:
        d = datetime.fromisoformat(value.replace("z", "Z").replace(" ", "+"))
    except ValueError as e:
        raise OccurrenceNotFound("Name the occurrence by its start in UTC, RFC 3339.") from e
    if d.tzinfo is None:
        raise OccurrenceNotFound("Name the occurrence by its start in UTC, RFC 3339.")
    return d.astimezone(UTC)


async def resolve_occurrence(
    session: AsyncSession, series: RoundSeries, start: str
) -> tuple[datetime, RoundOccurrenceException | None]:
    """The occurrence's original start (its id), given its original or its moved start."""
    instant = parse_start(start)
    exc = await session.scalar(
        select(RoundOccurrenceException).where(
            col(RoundOccurrenceException.series_id) == series.id,
            or_(
                col(RoundOccurrenceException.occurrence_start) == instant,
                col(RoundOccurrenceException.moved_to) == instant,
            ),
        )
    )
    if exc is not None:
        return exc.occurrence_start, exc
    if not rec.is_occurrence(rule_of(series), instant):
        raise OccurrenceNotFound("The round has no occurrence starting then.")
    return instant, None


async def live_occurrence(session: AsyncSession, series: RoundSeries, start: str) -> datetime:
    """The original start of an occurrence that was not cancelled."""
    original, exc = await resolve_occurrence(session, series, start)
    if exc is not None and exc.cancelled:
        raise OccurrenceCancelled("That occurrence was cancelled.")
    return original


def _single(
    series: RoundSeries, original: datetime, exc: RoundOccurrenceException | None
) -> dict[str, Any]:
    dur = timedelta(
        minutes=(
            exc.moved_duration_minutes
            if exc and exc.moved_duration_minutes
            else series.duration_minutes
        )
    )
    s = exc.moved_to if exc and exc.moved_to else original
    return occurrence_view(
        series,
        rec.Occurrence(
            original, s, s + dur, bool(exc and exc.cancelled), bool(exc and exc.moved_to)
        ),
        exc.reason if exc else None,
    )


def _exception_row(
    session: AsyncSession,
    series: RoundSeries,
    original: datetime,
    exc: RoundOccurrenceException | None,
) -> RoundOccurrenceException:
    if exc is None:
        exc = RoundOccurrenceException(series_id=series.id, occurrence_start=original)
        session.add(exc)
    return exc


def _as_it_stands(exc: RoundOccurrenceException) -> dict[str, Any]:
    """What `round.updated` says of a cancelled or moved occurrence beside its original
    start: where it starts (null: as scheduled), its own length (null: the series'),
    whether a reason was given (never the reason: free text), and who changed it."""
    return {
        "moved_to": exc.moved_to,
        "duration_minutes": exc.moved_duration_minutes,
        "reason_given": bool(exc.reason),
        "by_id": exc.changed_by_id,
    }


async def cancel_occurrence(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str, reason: str | None
) -> dict[str, Any]:
    original, exc = await resolve_occurrence(session, series, start)
    if exc is not None and exc.cancelled:
        return _single(series, original, exc)  # cancelling twice changes nothing
    attended = await session.scalar(
        select(col(RoundAttendance.id)).where(
            col(RoundAttendance.series_id) == series.id,
            col(RoundAttendance.occurrence_start) == original,
            col(RoundAttendance.attended).is_(True),
        )
    )
    if attended is not None:
        # Cancelled, it still counted as held, and its attendance could not be put right.
        raise OccurrenceHeld(
            "Attendance is recorded for this occurrence: it was held. If it did not take "
            "place, record that nobody attended, then cancel it."
        )
    exc = _exception_row(session, series, original, exc)
    exc.cancelled, exc.reason, exc.changed_by_id = True, reason, p.id
    exc.updated_at = utcnow()
    series.version += 1
    await flush_unique(session, "This occurrence")
    await announce(
        session,
        series,
        "occurrence_cancelled",
        occurrence_start=original,
        **_as_it_stands(exc),
    )
    return _single(series, original, exc)


async def move_occurrence(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str, data: dict[str, Any]
) -> dict[str, Any]:
    original, exc = await resolve_occurrence(session, series, start)
    if exc is not None and exc.cancelled:
        raise OccurrenceCancelled("That occurrence was cancelled; it cannot be moved.")
    tz = rec.zone(series.timezone)
    try:
        new_start = rec.local_to_utc(rec.parse_local(data["starts_at_local"]), tz)
    except rec.RecurrenceError as e:
        raise invalid_schedule(e) from e
    if new_start != original:
        # Its start names an occurrence: one starting there already (as scheduled, or moved
        # there) keeps it. A schedule change is held to the same rule (rehome.Plan).
        taken_by = new_start if rec.is_occurrence(rule_of(series), new_start) else None
        taken_by = taken_by or await session.scalar(
            select(col(RoundOccurrenceException.occurrence_start)).where(
                col(RoundOccurrenceException.series_id) == series.id,
                col(RoundOccurrenceException.moved_to) == new_start,
                col(RoundOccurrenceException.occurrence_start) != original,
            )
        )
        if taken_by is not None:
            raise slot_taken(
                "Another occurrence of this round starts on "
                f"{plain_instant(new_start, series.timezone)}: move this one to another time.",
                [(original, new_start, taken_by)],
            )
    moved_to = None if new_start == original else new_start
    if exc is not None and (exc.moved_to, exc.moved_duration_minutes, exc.reason) == (
        moved_to,
        data.get("duration_minutes"),
        data.get("reason"),
    ):
        return _single(series, original, exc)  # already so (a retry): nobody is told again
    # Told as "back at its scheduled time" only when it had been moved or resized.
    was_moved = exc is not None and (
        exc.moved_to is not None or exc.moved_duration_minutes is not None
    )
    exc = _exception_row(session, series, original, exc)
    exc.moved_to = moved_to
    exc.moved_duration_minutes = data.get("duration_minutes")
    exc.reason, exc.changed_by_id, exc.updated_at = data.get("reason"), p.id, utcnow()
    series.version += 1
    await flush_unique(session, "This occurrence")
    await announce(
        session,
        series,
        "occurrence_moved",
        occurrence_start=original,
        new_start=new_start,
        was_moved=was_moved,
        **_as_it_stands(exc),
    )
    return _single(series, original, exc)
