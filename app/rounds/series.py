"""A round series: scheduling it, editing it (in place, or from a date on by ending it and
carrying on in a new series), and deleting it."""

from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil.rrule import rrule
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.clock import utcnow
from app.core.errors import Forbidden, Unprocessable
from app.core.pagination import keyset_page
from app.core.principal import Principal, Role, Scope
from app.organizations.models import Organization
from app.rounds import recurrence as rec
from app.rounds.access import named, visible_series, with_host_name
from app.rounds.errors import LaterSeriesTakesOver, OccurrencesLeftOut
from app.rounds.models import RoundParticipant, RoundSeries
from app.rounds.participants import announce, plain_instant
from app.rounds.rehome import SINCE_EVER, plan, rehome
from app.rounds.schedule import (
    SCHEDULE_FIELDS,
    Schedule,
    end_before,
    end_kept,
    exceptions_of,
    last_before,
    rule_of,
)

# The occurrences a refused change would leave out, named at most (the first ones).
_LEFT_OUT_NAMED = 10
_NO_OCCURRENCE_LEFT = {"pointer": "/effective_from", "detail": "after the series' last occurrence"}


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
    sched = Schedule(
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
    await announce(session, series, "created")
    return series


async def list_series(
    session: AsyncSession,
    p: Principal,
    limit: int,
    cursor: str | None,
    organization_id: str | None = None,
    specialty: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The series as read, each with its host facility's name."""
    stmt = with_host_name().where(visible_series(p))
    if organization_id:
        stmt = stmt.where(col(RoundSeries.host_organization_id) == organization_id)
    if specialty:
        stmt = stmt.where(col(RoundSeries.specialty) == specialty)
    rows, nxt = await keyset_page(session, stmt, col(RoundSeries.id), limit, cursor, scalars=False)
    return [named(series, name) for series, name, _ in rows], nxt


async def update(
    session: AsyncSession, p: Principal, series: RoundSeries, data: dict[str, Any]
) -> RoundSeries:
    effective_from: datetime | None = data.pop("effective_from", None)
    # Cancellations and moves the new schedule has no occurrence for are refused (409)
    # unless this says to drop them.
    discard = bool(data.pop("discard_occurrence_changes", False))
    # A null reaches here only as join_url, which it clears (RoundUpdate.nullable).
    changed = {k: v for k, v in data.items() if getattr(series, k) != v}
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
        await _edit_in_place(session, series, changed, schedule_change, discard)
        await announce(session, series, "updated", fields=sorted(changed), by_id=p.id)
        return series
    return await _split(session, p, series, changed, split_at, discard)


async def _edit_in_place(
    session: AsyncSession,
    series: RoundSeries,
    changed: dict[str, Any],
    schedule_change: bool,
    discard: bool,
) -> None:
    if schedule_change:
        tz_name = changed.get("timezone", series.timezone)
        start_local = changed.get("starts_at_local", series.starts_at_local)
        rule_text = end_kept(
            rule_of(series),
            series.timezone,
            tz_name,
            start_local,
            changed.get("rrule", series.rrule),
        )
        later = await _successor(session, series)
        if later is not None:
            pointer = "/starts_at_local" if "starts_at_local" in changed else "/rrule"
            rule_text = _before(later, tz_name, start_local, rule_text, pointer)
        sched = Schedule(
            tz_name,
            start_local,
            changed.get("duration_minutes", series.duration_minutes),
            rule_text,
        )
        old_zone = series.timezone
        # Cancellations and moves follow their occurrences to the new times (checked
        # before anything changes: a refusal leaves the series as it was).
        exceptions = await plan(session, series.id, sched.rule, SINCE_EVER, old_zone)
        exceptions.check(old_zone, discard)
        sched.apply(series)
        await rehome(session, series.id, series.id, sched.rule, SINCE_EVER, old_zone, exceptions)
    for k in ("title", "specialty", "teaching_topic", "join_url"):
        if k in changed:
            setattr(series, k, changed[k])
    series.version += 1
    series.updated_at = utcnow()
    await session.flush()


async def _successor(session: AsyncSession, series: RoundSeries) -> RoundSeries | None:
    """The series a change saved before (from a later date) carries this one on with."""
    if series.next_series_id is None:
        return None
    later = await _held(session, series.next_series_id)
    return later if later is not None and later.deleted_at is None else None


async def _held(session: AsyncSession, series_id: str) -> RoundSeries | None:
    """The next series of a chain, read again and held to the commit as the series being
    written is (app.rounds.access.get_series): this change bumps its version too, and a
    change to it at the same moment must not be overwritten. Locks go along the chain,
    earlier series first, so two writers never wait for each other in a circle."""
    return await session.get(
        RoundSeries,
        series_id,
        with_for_update={"key_share": True},
        populate_existing=True,
    )


def _before(
    later: RoundSeries, tz_name: str, start_local: str, rule_text: str, pointer: str
) -> str:
    """`rule_text` ending before `later` starts, or the refusal of a schedule with nothing
    before it (nothing is saved: this runs before any change)."""
    # Capped, not refused: the chain already says `later` carries the round on from its
    # start, so "from now on" means until the change she saved for then, as it was saved.
    capped = end_before(tz_name, start_local, rule_text, later)
    if capped is not None:
        return capped
    when = plain_instant(later.starts_at, later.timezone)
    raise LaterSeriesTakesOver(
        f"The round already changes from {when} on (a change saved before, which carries it "
        "on from then), and the new schedule has no meeting before that: it would only "
        "double that later series' meetings. Change the later series instead, or start the "
        "new schedule sooner; nothing was changed.",
        errors=[
            {
                "pointer": pointer,
                "detail": f"must be before the later change's start, {when}",
                "code": "after_later_change",
            }
        ],
        later_series_id=later.id,
    )


def _continuation(
    old: RoundSeries,
    old_rule: rrule,
    changed: dict[str, Any],
    split_at: datetime,
    later: RoundSeries | None,
) -> Schedule:
    """The schedule a series split at `split_at` carries on with (ending before `later`)."""
    last_kept = last_before(old_rule, split_at)
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
                errors=[_NO_OCCURRENCE_LEFT],
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
                errors=[_NO_OCCURRENCE_LEFT],
            )
        rule_text = rec.rule_text(old_rule.replace(count=remaining))
    rule_text = end_kept(old_rule, old.timezone, tz_name, start_local, rule_text)
    if later is not None:
        pointer = (
            "/effective_from"
            if split_at >= later.starts_at
            else ("/starts_at_local" if "starts_at_local" in changed else "/rrule")
        )
        rule_text = _before(later, tz_name, start_local, rule_text, pointer)
    sched = Schedule(
        tz_name, start_local, changed.get("duration_minutes", old.duration_minutes), rule_text
    )
    if sched.starts_at < split_at and not _same_day_earlier(old, sched, split_at, last_kept):
        # The old series keeps every occurrence before split_at: a new series starting
        # sooner would apply the change before the date given and share days with it.
        raise Unprocessable(
            "The new schedule would start before effective_from.",
            errors=[
                {"pointer": "/starts_at_local", "detail": "must be on or after effective_from"}
            ],
        )
    return sched


def _same_day_earlier(
    old: RoundSeries, sched: Schedule, split_at: datetime, last_kept: datetime
) -> bool:
    """Whether a new schedule starting before `split_at` starts its day, as meant.

    "From the 14 December round (18:00), at 17:00": the new series begins an hour before
    the instant named, on its day (its date in the old zone, read in the new one, as a
    cancellation or a move follows its occurrence), with that occurrence. Only after the
    last occurrence the old series keeps, and not before now (a change from now on would
    otherwise start in the past).
    """
    day = split_at.astimezone(rec.zone(old.timezone)).date()
    return (
        sched.starts_at.astimezone(rec.zone(sched.timezone)).date() == day
        and sched.starts_at > last_kept
        and sched.starts_at >= utcnow()
    )


async def _split(
    session: AsyncSession,
    p: Principal,
    old: RoundSeries,
    changed: dict[str, Any],
    split_at: datetime,
    discard: bool,
) -> RoundSeries:
    """End the old series before `split_at` (UNTIL) and carry on in a new one."""
    old_rule = rule_of(old)
    sched = _continuation(old, old_rule, changed, split_at, await _successor(session, old))
    await _check_none_left_out(session, old, old_rule, sched, split_at)
    exceptions = await plan(session, old.id, sched.rule, split_at, old.timezone)
    exceptions.check(old.timezone, discard)
    last_kept = last_before(old_rule, split_at)
    assert last_kept is not None  # checked by _continuation
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
        next_series_id=old.next_series_id,
        timezone=sched.timezone,
        starts_at_local=sched.starts_at_local,
        starts_at=sched.starts_at,
        duration_minutes=sched.duration,
        rrule=sched.rule_text,
    )
    sched.apply(new)
    session.add(new)
    await session.flush()
    await _insert_in_chain(session, old, new)
    for part in (
        await session.scalars(
            select(RoundParticipant).where(col(RoundParticipant.series_id) == old.id)
        )
    ).all():
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
    await rehome(session, old.id, new.id, sched.rule, split_at, old.timezone, exceptions)
    await announce(session, old, "ended", until=last_kept, next_series_id=new.id, by_id=p.id)
    await announce(session, new, "created", previous_series_id=old.id, by_id=p.id)
    return new


async def _check_none_left_out(
    session: AsyncSession, old: RoundSeries, old_rule: rrule, sched: Schedule, split_at: datetime
) -> None:
    """Refuse a new series that would start after occurrences the change applies to, which
    it would hold had it begun sooner (`rec.held_sooner`: Sundays at 17:00 from 20 December
    leave out 13 December; Wednesdays from the 16th do not leave out Tuesday the 15th).

    The old series keeps only what comes before `split_at`, so those would be in neither
    series, and nobody asked for that: "from now on at 17:00" starting a week late drops the
    next occurrence, moved or not. Cancelled ones are not held anyway (their cancellation
    is `plan`'s, to be kept or discarded knowingly). The day of the new series' start is its
    own: any occurrence of the old series that day becomes the new one's.
    """
    if sched.starts_at <= split_at:
        return
    old_tz = rec.zone(old.timezone)
    new_day = sched.starts_at.astimezone(rec.zone(sched.timezone)).date()
    exceptions = await exceptions_of(session, old.id)
    left_out: list[tuple[datetime, datetime]] = []
    until = sched.starts_at.astimezone(old_tz)
    for d in rec.bounded(old_rule, until).xafter(split_at.astimezone(old_tz), inc=True):
        if d >= until or len(left_out) == _LEFT_OUT_NAMED:
            break
        original = d.astimezone(UTC)
        cancelled, moved_to, _ = exceptions.get(original, (False, None, None))
        if cancelled or d.date() == new_day:
            continue
        if rec.held_sooner(sched.rule, sched.starts_at, d.date()):
            left_out.append((original, moved_to or original))
    if not left_out:
        return
    said = "; ".join(
        f"the occurrence of {plain_instant(original, old.timezone)}"
        + (f", moved to {plain_instant(start, old.timezone)}" if start != original else "")
        for original, start in left_out
    )
    first_day = left_out[0][0].astimezone(old_tz)
    raise OccurrencesLeftOut(
        f"The new schedule would start on {plain_instant(sched.starts_at, sched.timezone)}, "
        f"after {said}, which the change applies to (from "
        f"{plain_instant(split_at, old.timezone)}): the old series ends before "
        f"{'it' if len(left_out) == 1 else 'them'} and the new one would start after, so "
        f"{'it' if len(left_out) == 1 else 'they'} would be in neither. Start the new "
        f"schedule on {first_day:%Y-%m-%d}, or send effective_from: the occurrence the change "
        "applies from (the old series keeps those before it); nothing was changed.",
        errors=[
            {
                "pointer": "/starts_at_local",
                "detail": f"must be on {first_day:%Y-%m-%d}, the day of the first occurrence "
                "the change applies to",
                "code": "leaves_out_occurrences",
            }
        ],
        left_out=[
            {"original_start": rec.rfc3339(original), "start": rec.rfc3339(start)}
            for original, start in left_out
        ],
    )


async def _insert_in_chain(session: AsyncSession, old: RoundSeries, new: RoundSeries) -> None:
    """`new` carries `old` on, and is carried on by what carried `old` on until now (a
    change applied from a later date had already split it): old -> new -> later."""
    now = utcnow()
    if old.next_series_id is not None:
        later = await _held(session, old.next_series_id)
        if later is not None:
            later.previous_series_id = new.id
            later.version += 1
            later.updated_at = now
    old.next_series_id = new.id
    old.version += 1
    old.updated_at = now


async def delete_series(session: AsyncSession, p: Principal, series: RoundSeries) -> None:
    # Kept as a row: recommendations given in its past occurrences stay in the case records.
    series.deleted_at = utcnow()
    series.version += 1
    series.updated_at = series.deleted_at
    await session.flush()
    await announce(session, series, "deleted", by_id=p.id)
