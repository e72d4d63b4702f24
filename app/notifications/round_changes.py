"""Telling a round's people what changed (`round.updated`, which app/rounds emits in the
change's own transaction): a meeting moved or cancelled, a new schedule, the round
removed; telling someone added to a round that she was, and when it next meets; and
someone taken off a round that she was.

Who: the round's participants (the event's audience: its specialists, local team and
interpreters, as the reminders reach), never the one who made the change where the event
says who did (`by_id`: a meeting's change, a schedule change, a removal; `added_by_id`). A
change nobody would see tells nobody: a new title, topic, specialty or join link; a change
"from a date on" that leaves every meeting where it was; a meeting already over.

Everything is read from the event's payload and the rounds domain's public schedule
(app/rounds/schedule.py: `upcoming`, `planned`, `last_start`), never from its tables of
exceptions. The data carries instants and whether a reason was given (never the reason:
free text); content.py (round_texts.py) writes them in each reader's language and zone."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.clock import utcnow
from app.events.models import OutboxEvent
from app.notifications.content import link
from app.notifications.kinds import Kind
from app.notifications.service import notify
from app.organizations.models import Organization
from app.rounds.models import RoundSeries
from app.rounds.schedule import (
    SCHEDULE_FIELDS,
    Occurrence,
    RecurrenceError,
    last_start,
    planned,
    upcoming,
)

log = logging.getLogger(__name__)

SHOWN = 3  # the next meetings a new schedule lists, before and after
AHEAD = timedelta(days=731)  # how far two schedules are compared

Told = tuple[dict[str, Any], str | None]  # what to say, and who made the change (not told)


def _span(start: datetime, end: datetime) -> list[str]:
    return [start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()]


def _spans(found: list[Occurrence]) -> list[list[str]]:
    return [_span(o.start, o.end) for o in found[:SHOWN]]


def _instant(value: Any) -> datetime | None:
    try:
        d = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return d.astimezone(UTC) if d.tzinfo else None


def _minutes(value: Any, usual: int) -> timedelta:
    return timedelta(minutes=value if isinstance(value, int) and value > 0 else usual)


async def _coming(session: AsyncSession, series: RoundSeries, now: datetime) -> list[Occurrence]:
    return await upcoming(session, series, now, SHOWN, AHEAD)


def _one_meeting(series: RoundSeries, p: dict[str, Any], now: datetime) -> Told | None:
    """A meeting cancelled or moved, as the event says it stands: as it stood, where it
    goes, whether a reason was given, and who changed it."""
    original = _instant(p.get("occurrence_start"))
    if original is None:
        return None
    usual = timedelta(minutes=series.duration_minutes)
    minutes = _minutes(p.get("duration_minutes"), series.duration_minutes)
    start = _instant(p.get("moved_to")) or original
    data: dict[str, Any]
    if p["change"] == "occurrence_cancelled":
        if start + minutes <= now:
            return None  # over already
        data = {"change": "cancelled", "occurrence": _span(start, start + minutes)}
    else:
        if max(original + usual, start + minutes) <= now:
            return None
        if start != original or minutes != usual:
            change = "moved"  # elsewhere, or only longer or shorter
        elif p.get("was_moved"):
            change = "moved_back"
        else:
            return None  # "moved" where it already was: nothing changed
        data = {
            "change": change,
            "occurrence": _span(original, original + usual),
            "moved_to": _span(start, start + minutes),
        }
    if p.get("reason_given"):
        data["reason_given"] = True
    return data, p.get("by_id")


async def _schedule(
    session: AsyncSession, series: RoundSeries, now: datetime, before: list[Occurrence]
) -> dict[str, Any]:
    """A new schedule: the next meetings now (and before, when known), and its end."""
    data: dict[str, Any] = {
        "change": "schedule",
        "after": _spans(await _coming(session, series, now)),
    }
    if before:
        data["before"] = _spans(before)
    if series.ends_at is not None:
        last = last_start(series)
        if last is not None:
            data["until"] = _span(last, last + timedelta(minutes=series.duration_minutes))
    return data


async def _split(
    session: AsyncSession, new: RoundSeries, p: dict[str, Any], now: datetime
) -> Told | None:
    """A series changed from a date on: the old one now ends (UNTIL) at its last kept
    meeting, and `new` carries on. Without that UNTIL, the old rule says when the meetings
    would have been; if they are where they were (and end when they did), nothing changed
    that anyone sees."""
    old = await session.get(RoundSeries, str(p["previous_series_id"]))
    if old is None:
        return None
    was = planned(old, now, now + AHEAD, past_its_end=True)
    plain = planned(new, now, now + AHEAD)
    if [(o.start, o.end) for o in was] == [(o.start, o.end) for o in plain]:
        return None
    data = await _schedule(session, new, now, was)
    if old.timezone != new.timezone:
        data["host_zone"] = new.timezone
    return data, p.get("by_id")


async def _what(session: AsyncSession, series: RoundSeries, p: dict[str, Any]) -> Told | None:
    now = utcnow()
    change = p.get("change")
    if change in ("occurrence_cancelled", "occurrence_moved"):
        return _one_meeting(series, p, now)
    if change == "created" and p.get("previous_series_id"):
        return await _split(session, series, p, now)
    if change == "updated" and set(p.get("fields") or ()) & set(SCHEDULE_FIELDS):
        # Edited in place (it had not begun): the old times are gone.
        data = await _schedule(session, series, now, [])
        if "timezone" in p["fields"]:
            data["host_zone"] = series.timezone
        return data, p.get("by_id")
    if change == "deleted":
        coming = await _coming(session, series, now)
        if not coming:
            return None
        return {
            "change": "deleted",
            "occurrence": _span(coming[0].start, coming[0].end),
        }, p.get("by_id")
    # "created" (nobody takes part yet), "ended" (told with the series that carries on),
    # a descriptive "updated": nothing anyone must act on.
    return None


async def _added(session: AsyncSession, series: RoundSeries, p: dict[str, Any]) -> None:
    """Tell someone added to a round (not one who added herself) when it next meets."""
    user_id, by = p.get("user_id"), p.get("added_by_id")
    if not user_id or user_id == by:
        return
    adder = await session.get(User, by) if by else None  # None too for an API client
    org = await session.get(Organization, series.host_organization_id)
    data: dict[str, Any] = {
        "round_id": series.id,
        "title": series.title,
        "role": p.get("role"),
        "organization": org.name if org else None,
        "inviter": adder.name if adder else None,
    }
    coming = await _coming(session, series, utcnow())
    if coming:
        data["next"] = _span(coming[0].start, coming[0].end)
    await notify(
        session, str(user_id), Kind.round_added, data=data, link=link(f"/rounds/{series.id}")
    )


async def _removed(session: AsyncSession, series: RoundSeries, p: dict[str, Any]) -> None:
    """Tell someone taken off a round (not one who took herself off) that its meetings no
    longer include her. A specialist or interpreter can no longer open the round, so her
    link is the rounds list; the host's local team still sees it. Those who stay are not
    told."""
    user_id, by = p.get("user_id"), p.get("by_id")
    if not user_id or user_id == by:
        return
    org = await session.get(Organization, series.host_organization_id)
    data = {
        "round_id": series.id,
        "title": series.title,
        "change": "taken_off",
        "organization": org.name if org else None,
    }
    page = f"/rounds/{series.id}" if p.get("role") == "local_team" else "/rounds"
    await notify(session, str(user_id), Kind.round_changed, data=data, link=link(page))


async def round_updated(session: AsyncSession, event: OutboxEvent) -> None:
    p = event.payload
    series = await session.get(RoundSeries, event.resource_id)
    if series is None:
        return
    try:
        if p.get("change") == "participant_added":
            await _added(session, series, p)
            return
        if p.get("change") == "participant_removed":
            await _removed(session, series, p)
            return
        told = await _what(session, series, p)
    except RecurrenceError:  # a schedule we cannot read must not fail the change
        log.warning("round %s has an unreadable schedule", series.id)
        return
    if told is None:
        return
    data, actor = told
    data = {"round_id": series.id, "title": series.title, **data}
    for uid in event.audience:
        if uid != actor:
            await notify(
                session, uid, Kind.round_changed, data=data, link=link(f"/rounds/{series.id}")
            )
