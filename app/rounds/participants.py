"""Who takes part in a round, telling them of its changes, and a specialist's double bookings."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth.models import User
from app.core.clock import utcnow
from app.core.errors import Conflict, Unprocessable
from app.core.principal import Principal, Role
from app.events.service import emit
from app.rounds import recurrence as rec
from app.rounds.errors import (
    ParticipantNotFound,
    PresentsOnAgenda,
    ScheduleConflict,
    flush_unique,
)
from app.rounds.models import ParticipantRole, RoundAgendaItem, RoundParticipant, RoundSeries
from app.rounds.schedule import exceptions_of, window
from app.rounds.schemas import RoundParticipantRead

CONFLICT_WINDOW = timedelta(days=180)
# English whatever the server's locale (strftime's names follow it).
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _day(s: datetime) -> str:
    return f"{_DAYS[s.weekday()]} {s.day} {_MONTHS[s.month - 1]} {s.year}"


def _plain(o: rec.Occurrence, zone: str) -> str:
    """An occurrence as its host says it: "Tuesday 1 December 2026, 09:00–10:00 (zone)"."""
    tz = rec.zone(zone)
    s, e = o.start.astimezone(tz), o.end.astimezone(tz)
    return f"{_day(s)}, {s:%H:%M}–{e:%H:%M} ({zone})"


def plain_instant(instant: datetime, zone: str) -> str:
    """An instant as the host says it: "Tuesday 1 December 2026, 09:00 (zone)"."""
    s = instant.astimezone(rec.zone(zone))
    return f"{_day(s)}, {s:%H:%M} ({zone})"


async def participant_ids(session: AsyncSession, series_id: str) -> list[str]:
    return list(
        (
            await session.scalars(
                select(col(RoundParticipant.user_id)).where(
                    col(RoundParticipant.series_id) == series_id
                )
            )
        ).all()
    )


async def takes_part(
    session: AsyncSession, series: RoundSeries, user_id: str, *, lock: bool = False
) -> bool:
    """`lock`: her participation held to the commit, so a removal running at the same time
    (which locks the row, then looks for what she presents) sees what this one writes."""
    stmt = select(col(RoundParticipant.id)).where(
        col(RoundParticipant.series_id) == series.id,
        col(RoundParticipant.user_id) == user_id,
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.scalar(stmt)) is not None


async def announce(session: AsyncSession, series: RoundSeries, change: str, **payload: Any) -> None:
    """Tell the series' participants (and its host facility) what changed."""
    await emit(
        session,
        "round.updated",
        "round",
        series.id,
        organization_id=series.host_organization_id,
        audience=await participant_ids(session, series.id),
        payload={
            "change": change,
            "round_id": series.id,
            "title": series.title,
            **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in payload.items()},
        },
    )


def _named(part: RoundParticipant, name: str) -> RoundParticipantRead:
    return RoundParticipantRead(**part.model_dump(), name=name)


async def list_participants(
    session: AsyncSession, series: RoundSeries
) -> list[RoundParticipantRead]:
    """The series' participants with their names, in one query however many there are.

    Callers decide who may read this (access.get_series): the names go wherever the list goes.
    """
    rows = await session.execute(
        select(RoundParticipant, col(User.name))
        .join(User, col(User.id) == col(RoundParticipant.user_id))
        .where(col(RoundParticipant.series_id) == series.id)
        .order_by(col(RoundParticipant.id))
    )
    return [_named(part, name) for part, name in rows.tuples()]


async def find_conflict(
    session: AsyncSession, series: RoundSeries, user_id: str
) -> tuple[RoundSeries, rec.Occurrence, rec.Occurrence] | None:
    """The first overlap between this series and the user's other rounds (next 180 days)."""
    start = max(utcnow(), series.starts_at)
    end = start + CONFLICT_WINDOW
    mine = await window(session, series, start, end)
    if not mine:
        return None
    others = (
        await session.scalars(
            select(RoundSeries)
            .join(RoundParticipant, col(RoundParticipant.series_id) == col(RoundSeries.id))
            .where(
                col(RoundParticipant.user_id) == user_id,
                col(RoundSeries.id) != series.id,
                col(RoundSeries.deleted_at).is_(None),
                col(RoundSeries.starts_at) < end,
                or_(col(RoundSeries.ends_at).is_(None), col(RoundSeries.ends_at) > start),
            )
        )
    ).all()
    for other in others:
        theirs = await window(session, other, start, end)
        i = j = 0
        while i < len(mine) and j < len(theirs):  # both sorted by start: a merge walk
            a, b = mine[i], theirs[j]
            if a.start < b.end and b.start < a.end:
                return other, a, b
            if a.end <= b.end:
                i += 1
            else:
                j += 1
    return None


async def add_participant(
    session: AsyncSession, p: Principal, series: RoundSeries, data: dict[str, Any]
) -> RoundParticipantRead:
    user = await session.get(User, data["user_id"])
    if user is None or not user.active:
        raise Unprocessable(
            "No such user.", errors=[{"pointer": "/user_id", "detail": "no such active user"}]
        )
    role = data["role"]
    fits = {
        ParticipantRole.specialist: user.role == Role.specialist,
        ParticipantRole.interpreter: user.role == Role.interpreter,
        ParticipantRole.local_team: user.role == Role.clinician
        and user.organization_id == series.host_organization_id,
    }[role]
    if not fits:
        raise Unprocessable(
            f"This user cannot join as {role}.",
            errors=[
                {
                    "pointer": "/role",
                    "detail": "local_team is the host facility's clinicians; "
                    "specialist and interpreter need users of that role",
                }
            ],
        )
    if await takes_part(session, series, user.id):
        raise Conflict("This user already takes part in the round.", code="already-participant")
    if role == ParticipantRole.specialist and not data.get("allow_conflict"):
        clash = await find_conflict(session, series, user.id)
        if clash is not None:
            other, a, b = clash
            raise ScheduleConflict(
                f"{user.name} is already booked into “{other.title}” on "
                f"{_plain(b, other.timezone)}, which overlaps this round on "
                f"{_plain(a, series.timezone)}. To book them anyway, send allow_conflict: true.",
                conflicting_round_id=other.id,
                occurrence_start=a.start.isoformat(),
                conflicting_occurrence_start=b.start.isoformat(),
            )
    part = RoundParticipant(
        series_id=series.id,
        user_id=user.id,
        role=role,
        allow_conflict=bool(data.get("allow_conflict")),
        added_by_id=p.id,
    )
    session.add(part)
    await flush_unique(session, "The participant list")
    await announce(
        session, series, "participant_added", user_id=user.id, role=role, added_by_id=p.id
    )
    return _named(part, user.name)


async def _presents_next(
    session: AsyncSession, series: RoundSeries, user_id: str
) -> tuple[datetime, datetime] | None:
    """The first occurrence not yet over (nor cancelled) at which the user presents a case:
    (its original start, when it begins), or None."""
    starts = (
        await session.scalars(
            select(col(RoundAgendaItem.occurrence_start))
            .where(
                col(RoundAgendaItem.series_id) == series.id,
                col(RoundAgendaItem.presenter_id) == user_id,
            )
            .order_by(col(RoundAgendaItem.occurrence_start))
        )
    ).all()
    if not starts:
        return None
    exceptions, now = await exceptions_of(session, series.id), utcnow()
    for original in starts:
        cancelled, moved_to, minutes = exceptions.get(original, (False, None, None))
        begins = moved_to or original
        if not cancelled and begins + timedelta(minutes=minutes or series.duration_minutes) > now:
            return original, begins
    return None


async def remove_participant(
    session: AsyncSession, p: Principal, series: RoundSeries, user_id: str
) -> None:
    """Take someone out of the round (added by mistake). Their attendance already recorded
    stays. Not while they present a case at an occurrence still to come, unless they are a
    host clinician (who may present anyway): the presenter must be one or the other (409)."""
    part = await session.scalar(
        select(RoundParticipant)
        .where(
            col(RoundParticipant.series_id) == series.id,
            col(RoundParticipant.user_id) == user_id,
        )
        .with_for_update()
    )
    if part is None:
        raise ParticipantNotFound("This user takes no part in the round.")
    user = await session.get(User, user_id)
    host_clinician = (
        user is not None
        and user.active
        and user.role == Role.clinician
        and user.organization_id == series.host_organization_id
    )
    coming = None if host_clinician else await _presents_next(session, series, user_id)
    if coming is not None:
        original, begins = coming
        raise PresentsOnAgenda(
            f"{user.name if user else 'This participant'} presents a case at the occurrence "
            f"of {plain_instant(begins, series.timezone)}: give that case another presenter, "
            "or take it off the agenda, first.",
            occurrence_start=rec.rfc3339(original),
            start=rec.rfc3339(begins),
        )
    # Told before the row goes, so that the one removed hears of it with those who stay.
    await announce(
        session, series, "participant_removed", user_id=user_id, role=part.role, by_id=p.id
    )
    await session.delete(part)
    await session.flush()
    await audit.append(
        session,
        p,
        "round_participant.remove",
        "round",
        series.id,
        detail=f"user {user_id} ({part.role})",
    )
