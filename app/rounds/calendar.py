"""iCalendar (RFC 5545) for a series and for a person's feed, written with `icalendar`.

A series is one VEVENT with DTSTART;TZID, the RRULE and its EXDATEs, plus one VEVENT per
moved occurrence carrying the same UID and a RECURRENCE-ID. The feeds hold no patient data:
calendar apps keep copies on third-party servers.
"""

import secrets
from datetime import date, timedelta

from icalendar import Calendar, Event, Timezone, vRecur
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import User
from app.core.clock import utcnow
from app.core.errors import Forbidden, NotFound
from app.core.principal import Principal, Role
from app.core.security import hash_secret
from app.followups.models import FollowUp, FollowUpStatus
from app.rounds import recurrence as rec
from app.rounds.models import RoundOccurrenceException, RoundParticipant, RoundSeries

PRODID = "-//Consult programme//Virtual rounds//EN"
UID_DOMAIN = "rounds.consult.example.org"


class FeedNotFound(NotFound):
    """No calendar feed has this token."""


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def _timezone(tzid: str, first: date) -> Timezone:
    # Bounded to the years the series can touch, so the VTIMEZONE stays small.
    return Timezone.from_tzid(
        tzid,
        first_date=first - timedelta(days=366),
        last_date=max(first, utcnow().date()) + timedelta(days=3660),
    )


def _series_events(series: RoundSeries, exceptions: list[RoundOccurrenceException]) -> list[Event]:
    tz = rec.zone(series.timezone)
    dtstart = rec.parse_local(series.starts_at_local).replace(tzinfo=tz)
    duration = timedelta(minutes=series.duration_minutes)
    uid = f"{series.id}@{UID_DOMAIN}"
    description = "\n".join(
        x
        for x in (
            f"Teaching topic: {series.teaching_topic}" if series.teaching_topic else "",
            f"Specialty: {series.specialty}",
            f"Join: {series.join_url}" if series.join_url else "",
        )
        if x
    )
    ev = Event()
    ev.add("uid", uid)
    ev.add("dtstamp", series.updated_at)
    ev.add("summary", series.title)
    ev.add("description", description)
    ev.add("dtstart", dtstart)
    ev.add("duration", duration)
    ev.add("rrule", vRecur.from_ical(series.rrule))
    ev.add("sequence", series.version)
    if series.join_url:
        ev.add("url", series.join_url)
        ev.add("location", series.join_url)
    cancelled = [x.occurrence_start.astimezone(tz) for x in exceptions if x.cancelled]
    if cancelled:
        ev.add("exdate", sorted(cancelled))
    events = [ev]
    for x in exceptions:
        # Moved, or only made longer or shorter at its usual time (moved_to stays empty):
        # either way calendars need the occurrence as it now is.
        if x.cancelled or (x.moved_to is None and x.moved_duration_minutes is None):
            continue
        moved = Event()
        moved.add("uid", uid)
        moved.add("dtstamp", x.updated_at)
        moved.add("recurrence-id", x.occurrence_start.astimezone(tz))
        moved.add("summary", series.title)
        moved.add("description", description)
        moved.add("dtstart", (x.moved_to or x.occurrence_start).astimezone(tz))
        moved.add(
            "duration",
            timedelta(minutes=x.moved_duration_minutes) if x.moved_duration_minutes else duration,
        )
        moved.add("sequence", series.version)
        if series.join_url:
            moved.add("url", series.join_url)
            moved.add("location", series.join_url)
        events.append(moved)
    return events


async def _exceptions_by_series(
    session: AsyncSession, ids: list[str]
) -> dict[str, list[RoundOccurrenceException]]:
    out: dict[str, list[RoundOccurrenceException]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = (
        await session.scalars(
            select(RoundOccurrenceException)
            .where(col(RoundOccurrenceException.series_id).in_(ids))
            .order_by(col(RoundOccurrenceException.occurrence_start))
        )
    ).all()
    for r in rows:
        out[r.series_id].append(r)
    return out


def _build(
    name: str,
    series_list: list[RoundSeries],
    exceptions: dict[str, list[RoundOccurrenceException]],
    extra: list[Event] | None = None,
) -> bytes:
    cal = _calendar(name)
    zones: dict[str, date] = {}
    for s in series_list:
        d = rec.parse_local(s.starts_at_local).date()
        zones[s.timezone] = min(zones.get(s.timezone, d), d)
    for tzid, first in sorted(zones.items()):
        cal.add_component(_timezone(tzid, first))
    for s in series_list:
        for ev in _series_events(s, exceptions.get(s.id, [])):
            cal.add_component(ev)
    for ev in extra or []:
        cal.add_component(ev)
    ical: bytes = cal.to_ical()  # icalendar is untyped
    return ical


async def series_ics(session: AsyncSession, series: RoundSeries) -> bytes:
    exc = await _exceptions_by_series(session, [series.id])
    return _build(series.title, [series], exc)


# ---- the personal feed -------------------------------------------------------------------


def _feed_hash(token: str) -> str:
    return hash_secret("calendar-feed:" + token)


async def rotate_token(session: AsyncSession, p: Principal) -> str:
    """A new feed token; the old one stops working at once (only its hash is kept)."""
    if not p.is_user:
        raise Forbidden("Calendar feeds belong to people, not API clients.")
    user = await session.get(User, p.id)
    if user is None:
        raise NotFound("No such user.")
    token = "cal_" + secrets.token_urlsafe(32)
    user.calendar_token_hash = _feed_hash(token)
    user.updated_at = utcnow()
    await session.flush()
    return token


async def _user_for_token(session: AsyncSession, token: str) -> User:
    if not token.startswith("cal_") or len(token) > 100:
        raise FeedNotFound("No such calendar feed.")
    user = await session.scalar(
        select(User).where(col(User.calendar_token_hash) == _feed_hash(token))
    )
    # Looked up by a keyed hash of a 256-bit secret: nothing to learn from timing.
    if user is None or not user.active:
        raise FeedNotFound("No such calendar feed.")
    return user


async def _followup_events(session: AsyncSession, user: User) -> list[Event]:
    # The follow-ups' own table, read as that domain publishes it (its model and statuses).
    rows = (
        await session.scalars(
            select(FollowUp)
            .where(
                col(FollowUp.assignee_id) == user.id, col(FollowUp.status) == FollowUpStatus.open
            )
            .order_by(col(FollowUp.due_at))
            .limit(500)
        )
    ).all()
    events = []
    for f in rows:
        ev = Event()
        ev.add("uid", f"{f.id}@followups.consult.example.org")
        ev.add("dtstamp", getattr(f, "updated_at", None) or utcnow())
        # The case id only: what the follow-up is about stays in the app.
        ev.add("summary", f"Follow-up due (case {f.case_id})")
        ev.add("dtstart", f.due_at)
        # Planned again (a new time), it is the same event, changed: calendars take the
        # higher SEQUENCE as the newer, as a round's moved occurrence.
        ev.add("sequence", f.version)
        ev.add("duration", timedelta(minutes=30))
        ev.add("categories", ["follow-up"])
        events.append(ev)
    return events


async def personal_feed(session: AsyncSession, token: str) -> bytes:
    """The rounds a person takes part in (a clinician: also those their facility hosts) and
    their open follow-ups."""
    user = await _user_for_token(session, token)
    takes_part = select(col(RoundParticipant.series_id)).where(
        col(RoundParticipant.user_id) == user.id
    )
    mine: ColumnElement[bool] = col(RoundSeries.id).in_(takes_part)
    if user.role == Role.clinician and user.organization_id:
        mine = or_(mine, col(RoundSeries.host_organization_id) == user.organization_id)
    series_list = list(
        (
            await session.scalars(
                select(RoundSeries)
                .where(mine, col(RoundSeries.deleted_at).is_(None))
                .order_by(col(RoundSeries.id))
            )
        ).all()
    )
    exc = await _exceptions_by_series(session, [s.id for s in series_list])
    return _build(
        f"Consult rounds and follow-ups ({user.name})",
        series_list,
        exc,
        await _followup_events(session, user),
    )
