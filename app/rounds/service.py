"""Virtual rounds: who sees and edits a series, the schedule, agenda, attendance and conflicts.

Visibility (every list is built from `visible_series`):
- admin, coordinator: every series;
- clinician: the series their facility hosts, and those they take part in;
- specialist, interpreter: the series they take part in;
- API client: its facility's series, with rounds:read.
Editing (schedule, participants, agenda, attendance): staff, the host facility's clinicians,
and the host's API clients with rounds:write.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil.rrule import rrule
from sqlalchemy import exists, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import User
from app.cases.access import full_access
from app.cases.lifecycle import OPEN_STATUSES
from app.cases.models import Case, CaseStatus
from app.core.clock import utcnow
from app.core.conditional import check_if_match
from app.core.conditional import etag as version_tag
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.core.pagination import decode_cursor, encode_cursor, keyset_page
from app.core.principal import Principal, Role, Scope
from app.events.service import emit
from app.organizations.models import Organization
from app.rounds import recurrence as rec
from app.rounds.models import (
    ParticipantRole,
    RoundAgendaItem,
    RoundAttendance,
    RoundOccurrenceException,
    RoundParticipant,
    RoundSeries,
)

CONFLICT_WINDOW = timedelta(days=180)
MAX_OCCURRENCE_RANGE = timedelta(days=731)
SCHEDULE_FIELDS = ("timezone", "starts_at_local", "duration_minutes", "rrule")


class RoundNotFound(NotFound):
    """No such round series, or the caller may not see it."""


class OccurrenceNotFound(NotFound):
    """The series has no occurrence starting at that instant."""


class OccurrenceCancelled(Conflict):
    """The occurrence was cancelled."""

    code, title = "occurrence-cancelled", "Occurrence cancelled"


class ScheduleConflict(Conflict):
    """The specialist is already booked into an overlapping round."""

    code, title = "round-conflict", "Schedule conflict"


class OccurrenceNotStarted(Conflict):
    """Attendance is recorded once the occurrence has begun."""

    code, title = "occurrence-not-started", "Occurrence not started"


class AgendaItemNotFound(NotFound):
    """No such agenda item on this occurrence."""


def _invalid(e: rec.RecurrenceError) -> Unprocessable:
    return Unprocessable(
        e.detail, errors=[{"pointer": f"/{e.field}", "detail": e.detail}], code="invalid-schedule"
    )


async def _flush_unique(session: AsyncSession, what: str) -> None:
    """A unique key lost to a concurrent request is a 409, not a 500 (the request rolls back)."""
    try:
        await session.flush()
    except IntegrityError as e:
        raise Conflict(f"{what} changed at the same moment; send the request again.") from e


# ---- who may do what ---------------------------------------------------------------------


def _takes_part(user_id: str) -> Any:
    return exists().where(
        RoundParticipant.series_id == RoundSeries.id, RoundParticipant.user_id == user_id
    )


def visible_series(p: Principal) -> Any:
    """WHERE clause: the series this principal may see."""
    if p.is_client:
        clause = (
            RoundSeries.host_organization_id == p.organization_id
            if p.has_scope(Scope.rounds_read)
            else false()
        )
    elif p.is_staff:
        clause = true()
    elif p.role == Role.clinician:
        clause = or_(RoundSeries.host_organization_id == p.organization_id, _takes_part(p.id))
    else:
        clause = _takes_part(p.id)
    return (RoundSeries.deleted_at.is_(None)) & clause  # type: ignore[union-attr]


def can_edit(p: Principal, series: RoundSeries) -> bool:
    if p.is_client:
        return p.organization_id == series.host_organization_id and p.has_scope(Scope.rounds_write)
    if p.is_staff:
        return True
    return p.role == Role.clinician and p.organization_id == series.host_organization_id


def _require_edit(p: Principal, series: RoundSeries) -> None:
    if not can_edit(p, series):
        raise Forbidden("Only the host facility and programme staff change this round.")


async def get_series(session: AsyncSession, p: Principal, series_id: str) -> RoundSeries:
    series = await session.scalar(
        select(RoundSeries).where(RoundSeries.id == series_id, visible_series(p))
    )
    if series is None:
        raise RoundNotFound("No such round.")
    return series


async def get_editable(
    session: AsyncSession, p: Principal, series_id: str, if_match: str | None = None
) -> RoundSeries:
    series = await get_series(session, p, series_id)
    _require_edit(p, series)
    check_if_match(if_match, etag(series), what="round")
    return series


def etag(series: RoundSeries) -> str:
    """The series' ETag: occurrence cancels and moves bump its version too."""
    return version_tag(series.version)


# ---- the schedule ------------------------------------------------------------------------


def rule_of(series: RoundSeries) -> rrule:
    tz = rec.zone(series.timezone)
    return rec.parse_rule(series.rrule, rec.parse_local(series.starts_at_local), tz)


async def _exceptions(
    session: AsyncSession, series_id: str
) -> dict[datetime, tuple[bool, datetime | None, int | None]]:
    rows = (
        (
            await session.execute(
                select(RoundOccurrenceException).where(
                    RoundOccurrenceException.series_id == series_id
                )
            )
        )
        .scalars()
        .all()
    )
    return {r.occurrence_start: (r.cancelled, r.moved_to, r.moved_duration_minutes) for r in rows}


class _Schedule:
    """A validated schedule: the rule, its first start and the end of its last occurrence."""

    def __init__(self, timezone: str, starts_at_local: str, duration: int, rule_text: str):
        try:
            tz = rec.zone(timezone)
            local = rec.parse_local(starts_at_local)
            rec.local_to_utc(local, tz)
            self.rule = rec.parse_rule(rule_text, local, tz)
            first = rec.first_occurrence(self.rule)
            last = rec.last_occurrence(self.rule)
        except rec.RecurrenceError as e:
            raise _invalid(e) from e
        self.timezone = timezone
        self.rule_text = rec.normalize_rule_text(rule_text)
        # The series starts at its first real occurrence (RFC 5545 wants DTSTART in the set).
        self.starts_at_local = first.strftime(rec.LOCAL_FORMAT)
        if self.starts_at_local != starts_at_local:
            self.rule = rec.parse_rule(rule_text, first.replace(tzinfo=None), tz)
        self.starts_at = first.astimezone(UTC)
        self.duration = duration
        self.ends_at = (last.astimezone(UTC) + timedelta(minutes=duration)) if last else None

    def apply(self, series: RoundSeries) -> None:
        series.timezone = self.timezone
        series.starts_at_local = self.starts_at_local
        series.starts_at = self.starts_at
        series.ends_at = self.ends_at
        series.duration_minutes = self.duration
        series.rrule = self.rule_text


async def _participant_ids(session: AsyncSession, series_id: str) -> list[str]:
    return list(
        (
            await session.execute(
                select(RoundParticipant.user_id).where(RoundParticipant.series_id == series_id)
            )
        )
        .scalars()
        .all()
    )


async def _announce(
    session: AsyncSession, series: RoundSeries, change: str, **payload: Any
) -> None:
    await emit(
        session,
        "round.updated",
        "round",
        series.id,
        organization_id=series.host_organization_id,
        audience=await _participant_ids(session, series.id),
        payload={
            "change": change,
            "round_id": series.id,
            "title": series.title,
            **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in payload.items()},
        },
    )


async def create(session: AsyncSession, p: Principal, data: dict[str, Any]) -> RoundSeries:
    p.require_scope(Scope.rounds_write)
    if p.is_client:
        if data["host_organization_id"] != p.organization_id:
            raise Forbidden("An API client schedules rounds for its own facility only.")
    elif not p.is_staff:
        if p.role != Role.clinician:
            raise Forbidden("Only coordinators and the host facility's clinicians schedule rounds.")
        if data["host_organization_id"] != p.organization_id:
            raise Forbidden("Clinicians schedule rounds for their own facility only.")
    org = await session.get(Organization, data["host_organization_id"])
    if org is None:
        raise Unprocessable(
            "No such facility.",
            errors=[{"pointer": "/host_organization_id", "detail": "no such facility"}],
        )
    sched = _Schedule(
        data.get("timezone") or org.timezone,
        data["starts_at_local"],
        data["duration_minutes"],
        data["rrule"],
    )
    series = RoundSeries(
        title=data["title"],
        host_organization_id=org.id,
        specialty=data["specialty"],
        teaching_topic=data.get("teaching_topic") or "",
        join_url=data.get("join_url"),
        created_by_id=p.id,
        timezone=sched.timezone,
        starts_at_local=sched.starts_at_local,
        starts_at=sched.starts_at,
        duration_minutes=sched.duration,
        rrule=sched.rule_text,
    )
    sched.apply(series)
    session.add(series)
    await session.flush()
    await _announce(session, series, "created")
    return series


async def list_series(
    session: AsyncSession,
    p: Principal,
    limit: int,
    cursor: str | None,
    organization_id: str | None = None,
    specialty: str | None = None,
) -> tuple[list[RoundSeries], str | None]:
    stmt = select(RoundSeries).where(visible_series(p))
    if organization_id:
        stmt = stmt.where(RoundSeries.host_organization_id == organization_id)
    if specialty:
        stmt = stmt.where(RoundSeries.specialty == specialty)
    return await keyset_page(session, stmt, RoundSeries.id, limit, cursor)


def _last_before(rule: rrule, instant: datetime) -> datetime | None:
    d = rule.before(instant.astimezone(rule._dtstart.tzinfo), inc=False)
    return d.astimezone(UTC) if d else None


async def update(
    session: AsyncSession, p: Principal, series: RoundSeries, data: dict[str, Any]
) -> RoundSeries:
    effective_from: datetime | None = data.pop("effective_from", None)
    # null clears the join URL; for the other fields it means "leave as is".
    changed = {
        k: v
        for k, v in data.items()
        if (v is not None or k == "join_url") and getattr(series, k) != v
    }
    schedule_change = any(k in changed for k in SCHEDULE_FIELDS)
    split_at = (
        effective_from.astimezone(UTC)
        if effective_from
        else (utcnow() if schedule_change else None)
    )
    if not changed:
        return series
    if split_at is None or series.starts_at >= split_at:
        # Nothing of the series has happened before the change takes effect: edit in place.
        await _edit_in_place(session, series, changed, schedule_change)
        await _announce(session, series, "updated", fields=sorted(changed))
        return series
    return await _split(session, p, series, changed, split_at)


async def _edit_in_place(
    session: AsyncSession, series: RoundSeries, changed: dict[str, Any], schedule_change: bool
) -> None:
    if schedule_change:
        sched = _Schedule(
            changed.get("timezone", series.timezone),
            changed.get("starts_at_local", series.starts_at_local),
            changed.get("duration_minutes", series.duration_minutes),
            changed.get("rrule", series.rrule),
        )
        sched.apply(series)
        # Exceptions and agenda keyed to occurrences the new schedule no longer has are moot.
        await _rehome(session, series.id, series, sched.rule, datetime.min.replace(tzinfo=UTC))
    for k in ("title", "specialty", "teaching_topic", "join_url"):
        if k in changed:
            setattr(series, k, changed[k])
    series.version += 1
    series.updated_at = utcnow()
    await session.flush()


async def _split(
    session: AsyncSession,
    p: Principal,
    old: RoundSeries,
    changed: dict[str, Any],
    split_at: datetime,
) -> RoundSeries:
    """End the old series before `split_at` (UNTIL) and carry on in a new one."""
    old_rule = rule_of(old)
    last_kept = _last_before(old_rule, split_at)
    assert last_kept is not None  # old.starts_at < split_at
    tz_name = changed.get("timezone", old.timezone)
    tz = rec.zone(tz_name)
    if "starts_at_local" in changed:
        start_local = changed["starts_at_local"]
    else:
        nxt = old_rule.after(split_at.astimezone(old_rule._dtstart.tzinfo), inc=True)
        if nxt is None and "rrule" not in changed:
            raise Unprocessable(
                "The series has no occurrence left from that date on.",
                errors=[
                    {"pointer": "/effective_from", "detail": "after the series' last occurrence"}
                ],
            )
        # The same wall time the series had, from the split date on.
        base = (
            nxt.replace(tzinfo=None)
            if nxt
            else split_at.astimezone(tz).replace(
                hour=old_rule._dtstart.hour, minute=old_rule._dtstart.minute, tzinfo=None
            )
        )
        start_local = base.strftime(rec.LOCAL_FORMAT)
    rule_text = changed.get("rrule", old.rrule)
    if "rrule" not in changed and old_rule._count is not None:
        held = sum(1 for _ in old_rule.replace(count=None, until=last_kept))
        remaining = old_rule._count - held
        if remaining < 1:
            raise Unprocessable(
                "The series has no occurrence left from that date on.",
                errors=[
                    {"pointer": "/effective_from", "detail": "after the series' last occurrence"}
                ],
            )
        rule_text = rec.rule_text(old_rule.replace(count=remaining))
    sched = _Schedule(
        tz_name, start_local, changed.get("duration_minutes", old.duration_minutes), rule_text
    )
    if sched.starts_at < split_at:
        raise Unprocessable(
            "The new schedule would start before effective_from.",
            errors=[
                {"pointer": "/starts_at_local", "detail": "must be on or after effective_from"}
            ],
        )
    # The past stays as it was: the old rule only gets an UNTIL at its last kept occurrence.
    old.rrule = rec.rule_text(old_rule.replace(count=None, until=last_kept))
    old.ends_at = last_kept + timedelta(minutes=old.duration_minutes)
    new = RoundSeries(
        title=changed.get("title", old.title),
        host_organization_id=old.host_organization_id,
        specialty=changed.get("specialty", old.specialty),
        teaching_topic=changed.get("teaching_topic", old.teaching_topic),
        join_url=changed.get("join_url", old.join_url),
        created_by_id=p.id,
        previous_series_id=old.id,
        timezone=sched.timezone,
        starts_at_local=sched.starts_at_local,
        starts_at=sched.starts_at,
        duration_minutes=sched.duration,
        rrule=sched.rule_text,
    )
    sched.apply(new)
    session.add(new)
    await session.flush()
    old.next_series_id = new.id
    old.version += 1
    old.updated_at = utcnow()
    for part in (
        (
            await session.execute(
                select(RoundParticipant).where(RoundParticipant.series_id == old.id)
            )
        )
        .scalars()
        .all()
    ):
        session.add(
            RoundParticipant(
                series_id=new.id,
                user_id=part.user_id,
                role=part.role,
                allow_conflict=part.allow_conflict,
                added_by_id=p.id,
            )
        )
    await session.flush()
    await _rehome(session, old.id, new, sched.rule, split_at)
    await _announce(session, old, "ended", until=last_kept, next_series_id=new.id)
    await _announce(session, new, "created", previous_series_id=old.id)
    return new


async def _rehome(
    session: AsyncSession, from_id: str, target: RoundSeries, rule: rrule, since: datetime
) -> None:
    """Carry exceptions and agenda from `since` on over to `target`'s schedule.

    An exception for an occurrence the schedule no longer has is dropped; an agenda item
    goes to the next occurrence, so a case waiting to be presented stays on the agenda.
    """
    exc_rows = (
        (
            await session.execute(
                select(RoundOccurrenceException).where(
                    RoundOccurrenceException.series_id == from_id,
                    RoundOccurrenceException.occurrence_start >= since,
                )
            )
        )
        .scalars()
        .all()
    )
    for x in exc_rows:
        if rec.is_occurrence(rule, x.occurrence_start):
            x.series_id = target.id
        else:
            await session.delete(x)
    items = (
        (
            await session.execute(
                select(RoundAgendaItem).where(
                    RoundAgendaItem.series_id == from_id, RoundAgendaItem.occurrence_start >= since
                )
            )
        )
        .scalars()
        .all()
    )
    taken: set[tuple[datetime, str]] = set()
    for it in items:
        key = it.occurrence_start
        if not rec.is_occurrence(rule, key):
            nxt = rule.after(key.astimezone(rule._dtstart.tzinfo), inc=True)
            if nxt is None:
                continue  # nowhere to go; it stays with the old series' record
            key = nxt.astimezone(UTC)
        if (key, it.case_id) in taken:
            await session.delete(it)
            continue
        taken.add((key, it.case_id))
        it.series_id, it.occurrence_start = target.id, key
    att = (
        (
            await session.execute(
                select(RoundAttendance).where(
                    RoundAttendance.series_id == from_id, RoundAttendance.occurrence_start >= since
                )
            )
        )
        .scalars()
        .all()
    )
    for a in att:
        if rec.is_occurrence(rule, a.occurrence_start):
            a.series_id = target.id
    await session.flush()


async def delete_series(session: AsyncSession, series: RoundSeries) -> None:
    # Kept as a row: recommendations given in its past occurrences stay in the case records.
    series.deleted_at = utcnow()
    series.version += 1
    series.updated_at = series.deleted_at
    await session.flush()
    await _announce(session, series, "deleted")


# ---- occurrences -------------------------------------------------------------------------


def occurrence_view(series: RoundSeries, o: rec.Occurrence) -> dict[str, Any]:
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
        after = datetime.fromisoformat(str(decode_cursor(cursor)))
    found = rec.expand(
        rule_of(series),
        timedelta(minutes=series.duration_minutes),
        start,
        end,
        await _exceptions(session, series.id),
        include_cancelled=include_cancelled,
    )
    if after is not None:
        found = [o for o in found if o.start > after]
    page = found[:limit]
    nxt = encode_cursor(page[-1].start.isoformat()) if len(found) > limit else None
    return [occurrence_view(series, o) for o in page], nxt


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
            RoundOccurrenceException.series_id == series.id,
            or_(
                RoundOccurrenceException.occurrence_start == instant,
                RoundOccurrenceException.moved_to == instant,
            ),
        )
    )
    if exc is not None:
        return exc.occurrence_start, exc
    if not rec.is_occurrence(rule_of(series), instant):
        raise OccurrenceNotFound("The round has no occurrence starting then.")
    return instant, None


async def _live_occurrence(session: AsyncSession, series: RoundSeries, start: str) -> datetime:
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
    )


async def _exception_row(
    session: AsyncSession,
    series: RoundSeries,
    original: datetime,
    exc: RoundOccurrenceException | None,
) -> RoundOccurrenceException:
    if exc is None:
        exc = RoundOccurrenceException(series_id=series.id, occurrence_start=original)
        session.add(exc)
    return exc


async def cancel_occurrence(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str, reason: str | None
) -> dict[str, Any]:
    original, exc = await resolve_occurrence(session, series, start)
    if exc is not None and exc.cancelled:
        return _single(series, original, exc)  # cancelling twice changes nothing
    exc = await _exception_row(session, series, original, exc)
    exc.cancelled, exc.reason, exc.changed_by_id = True, reason, p.id
    exc.updated_at = utcnow()
    series.version += 1
    await _flush_unique(session, "This occurrence")
    await _announce(session, series, "occurrence_cancelled", occurrence_start=original)
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
        raise _invalid(e) from e
    if new_start != original:
        clash = rec.is_occurrence(rule_of(series), new_start) or await session.scalar(
            select(RoundOccurrenceException.id).where(
                RoundOccurrenceException.series_id == series.id,
                RoundOccurrenceException.moved_to == new_start,
                RoundOccurrenceException.occurrence_start != original,
            )
        )
        if clash:
            raise Conflict("Another occurrence of this round starts then.")
    exc = await _exception_row(session, series, original, exc)
    exc.moved_to = None if new_start == original else new_start
    exc.moved_duration_minutes = data.get("duration_minutes")
    exc.reason, exc.changed_by_id, exc.updated_at = data.get("reason"), p.id, utcnow()
    series.version += 1
    await _flush_unique(session, "This occurrence")
    await _announce(
        session, series, "occurrence_moved", occurrence_start=original, new_start=new_start
    )
    return _single(series, original, exc)


# ---- participants and conflicts ----------------------------------------------------------


async def list_participants(session: AsyncSession, series: RoundSeries) -> list[RoundParticipant]:
    return list(
        (
            await session.execute(
                select(RoundParticipant)
                .where(RoundParticipant.series_id == series.id)
                .order_by(RoundParticipant.id)
            )
        )
        .scalars()
        .all()
    )


async def _window(
    session: AsyncSession, series: RoundSeries, start: datetime, end: datetime
) -> list[rec.Occurrence]:
    return rec.expand(
        rule_of(series),
        timedelta(minutes=series.duration_minutes),
        start,
        end,
        await _exceptions(session, series.id),
    )


async def find_conflict(
    session: AsyncSession, series: RoundSeries, user_id: str
) -> tuple[RoundSeries, rec.Occurrence, rec.Occurrence] | None:
    """The first overlap between this series and the user's other rounds (next 180 days)."""
    start = max(utcnow(), series.starts_at)
    end = start + CONFLICT_WINDOW
    mine = await _window(session, series, start, end)
    if not mine:
        return None
    others = (
        (
            await session.execute(
                select(RoundSeries)
                .join(RoundParticipant, RoundParticipant.series_id == RoundSeries.id)
                .where(
                    RoundParticipant.user_id == user_id,
                    RoundSeries.id != series.id,
                    RoundSeries.deleted_at.is_(None),  # type: ignore[union-attr]
                    RoundSeries.starts_at < end,
                    or_(RoundSeries.ends_at.is_(None), RoundSeries.ends_at > start),  # type: ignore[union-attr]
                )
            )
        )
        .scalars()
        .all()
    )
    for other in others:
        theirs = await _window(session, other, start, end)
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
) -> RoundParticipant:
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
    if await session.scalar(
        select(RoundParticipant.id).where(
            RoundParticipant.series_id == series.id, RoundParticipant.user_id == user.id
        )
    ):
        raise Conflict("This user already takes part in the round.", code="already-participant")
    if role == ParticipantRole.specialist and not data.get("allow_conflict"):
        clash = await find_conflict(session, series, user.id)
        if clash is not None:
            other, a, b = clash
            raise ScheduleConflict(
                f"The specialist is booked into {other.title!r}, which overlaps this round on "
                f"{a.start.isoformat()}. Send allow_conflict: true to book anyway.",
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
    await _flush_unique(session, "The participant list")
    return part


# ---- agenda ------------------------------------------------------------------------------


async def add_agenda_item(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str, data: dict[str, Any]
) -> RoundAgendaItem:
    original = await _live_occurrence(session, series, start)
    case = await session.scalar(select(Case).where(Case.id == data["case_id"], full_access(p)))
    if case is None or case.organization_id != series.host_organization_id:
        raise Unprocessable(
            "No such case of the host facility.",
            errors=[
                {"pointer": "/case_id", "detail": "not a case of the host facility you can see"}
            ],
        )
    await _check_presenter(session, series, data["presenter_id"])
    if await session.scalar(
        select(RoundAgendaItem.id).where(
            RoundAgendaItem.series_id == series.id,
            RoundAgendaItem.occurrence_start == original,
            RoundAgendaItem.case_id == case.id,
        )
    ):
        raise Conflict("The case is already on this occurrence's agenda.", code="already-on-agenda")
    position = data.get("position")
    if position is None:
        top = await session.scalar(
            select(func.max(RoundAgendaItem.position)).where(
                RoundAgendaItem.series_id == series.id, RoundAgendaItem.occurrence_start == original
            )
        )
        position = 0 if top is None else top + 1
    item = RoundAgendaItem(
        series_id=series.id,
        occurrence_start=original,
        case_id=case.id,
        presenter_id=data["presenter_id"],
        position=position,
        added_by_id=p.id,
    )
    session.add(item)
    await _flush_unique(session, "The agenda")
    await audit.append(
        session,
        p,
        "round_agenda.add",
        "case",
        case.id,
        detail=f"round {series.id} at {original.isoformat()}",
    )
    return item


async def _check_presenter(session: AsyncSession, series: RoundSeries, user_id: str) -> None:
    user = await session.get(User, user_id)
    ok = (
        user is not None
        and user.active
        and (
            (user.role == Role.clinician and user.organization_id == series.host_organization_id)
            or await session.scalar(
                select(RoundParticipant.id).where(
                    RoundParticipant.series_id == series.id, RoundParticipant.user_id == user_id
                )
            )
        )
    )
    if not ok:
        raise Unprocessable(
            "The presenter must be a host clinician or a participant.",
            errors=[{"pointer": "/presenter_id", "detail": "not a host clinician or participant"}],
        )


async def agenda(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str
) -> list[RoundAgendaItem]:
    original, _ = await resolve_occurrence(session, series, start)
    items = list(
        (
            await session.execute(
                select(RoundAgendaItem)
                .where(
                    RoundAgendaItem.series_id == series.id,
                    RoundAgendaItem.occurrence_start == original,
                )
                .order_by(RoundAgendaItem.position, RoundAgendaItem.id)
            )
        )
        .scalars()
        .all()
    )
    await audit.append(
        session,
        p,
        "round_agenda.read",
        "round",
        series.id,
        detail=f"at {original.isoformat()}: {len(items)} item(s)",
    )
    return items


async def update_agenda_item(
    session: AsyncSession,
    p: Principal,
    series: RoundSeries,
    start: str,
    item_id: str,
    data: dict[str, Any],
) -> RoundAgendaItem:
    original, _ = await resolve_occurrence(session, series, start)
    item = await session.scalar(
        select(RoundAgendaItem).where(
            RoundAgendaItem.id == item_id,
            RoundAgendaItem.series_id == series.id,
            RoundAgendaItem.occurrence_start == original,
        )
    )
    if item is None:
        raise AgendaItemNotFound("No such agenda item.")
    editor = can_edit(p, series)
    # The specialists in the room give the round's advice; the host runs the agenda.
    advises = editor or (p.is_user and p.role == Role.specialist)
    if "recommendation" in data and not advises:
        raise Forbidden("Only the round's specialists and its host record recommendations.")
    if ({"presenter_id", "position"} & data.keys()) and not editor:
        raise Forbidden("Only the host facility and programme staff arrange the agenda.")
    if data.get("presenter_id"):
        await _check_presenter(session, series, data["presenter_id"])
        item.presenter_id = data["presenter_id"]
    if data.get("position") is not None:
        item.position = data["position"]
    if data.get("recommendation"):
        item.recommendation = data["recommendation"]
        item.recommended_at, item.recommended_by_id = utcnow(), p.id
    item.version += 1
    item.updated_at = utcnow()
    await session.flush()
    await audit.append(
        session,
        p,
        "round_agenda.update",
        "case",
        item.case_id,
        detail=f"round {series.id} item {item.id}: {sorted(data)}",
    )
    return item


async def suggested_agenda(
    session: AsyncSession, p: Principal, series: RoundSeries, start: str, limit: int
) -> list[dict[str, Any]]:
    """The host's open cases in the series' specialty: unmatched first, then longest waiting."""
    original = await _live_occurrence(session, series, start)
    on_agenda = exists().where(
        RoundAgendaItem.case_id == Case.id,
        RoundAgendaItem.series_id == series.id,
        RoundAgendaItem.occurrence_start == original,
    )
    unmatched_first = Case.status != CaseStatus.unmatched.value
    rows = (
        (
            await session.execute(
                select(Case)
                .where(
                    Case.organization_id == series.host_organization_id,
                    Case.specialty == series.specialty,
                    Case.status.in_([s.value for s in OPEN_STATUSES]),  # type: ignore[attr-defined]
                    full_access(p),
                    ~on_agenda,
                )
                .order_by(unmatched_first, Case.created_at, Case.id)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    now = utcnow()
    out = [
        {
            "case_id": c.id,
            "specialty": c.specialty,
            "urgency": c.urgency,
            "status": c.status,
            "question": c.question,
            "submitted_at": c.created_at,
            "waiting_minutes": int((now - c.created_at).total_seconds() // 60),
        }
        for c in rows
    ]
    await audit.append(
        session,
        p,
        "round_agenda.suggest",
        "round",
        series.id,
        detail=f"{len(out)} case(s): " + ",".join(c["case_id"] for c in out),
    )
    return out


# ---- attendance --------------------------------------------------------------------------


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
            RoundAttendance.series_id == series.id,
            RoundAttendance.occurrence_start == original,
            RoundAttendance.user_id == user.id,
        )
    )
    created = row is None
    if row is None:
        row = RoundAttendance(series_id=series.id, occurrence_start=original, user_id=user.id)
        session.add(row)
    row.attended = data["attended"]
    row.local = user.role == Role.clinician and user.organization_id == series.host_organization_id
    row.recorded_by_id, row.updated_at = p.id, utcnow()
    await _flush_unique(session, "Attendance for this person")
    return row, created


async def attendance(
    session: AsyncSession, series: RoundSeries, start: str
) -> list[RoundAttendance]:
    original, _ = await resolve_occurrence(session, series, start)
    return list(
        (
            await session.execute(
                select(RoundAttendance)
                .where(
                    RoundAttendance.series_id == series.id,
                    RoundAttendance.occurrence_start == original,
                )
                .order_by(RoundAttendance.id)
            )
        )
        .scalars()
        .all()
    )
