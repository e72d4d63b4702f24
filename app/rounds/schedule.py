"""A series' schedule: its validated rule, and its occurrences with their exceptions applied.

The public way to a series' occurrences for other packages (`window`, `upcoming`,
`planned`, `last_start`): they need not expand a rule nor read the exceptions themselves."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from dateutil.rrule import rrule
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.rounds import recurrence as rec
from app.rounds.errors import invalid_schedule
from app.rounds.models import RoundOccurrenceException, RoundSeries
from app.rounds.recurrence import Occurrence as Occurrence
from app.rounds.recurrence import RecurrenceError as RecurrenceError

SCHEDULE_FIELDS = ("timezone", "starts_at_local", "duration_minutes", "rrule")
# How far `upcoming` looks first: a daily series' two years are ~730 occurrences to expand.
_SOON = timedelta(days=62)

# An occurrence's original start -> (cancelled, moved to, moved duration in minutes).
Exceptions = dict[datetime, tuple[bool, datetime | None, int | None]]


def rule_of(series: RoundSeries) -> rrule:
    tz = rec.zone(series.timezone)
    return rec.parse_rule(series.rrule, rec.parse_local(series.starts_at_local), tz)


def end_kept(old: rrule, old_zone: str, timezone: str, starts_at_local: str, rule_text: str) -> str:
    """`rule_text`, a new schedule's rule, with the end it shares with `old` kept by its day.

    An UNTIL is an instant (RFC 5545 wants UTC beside a zoned start), but a series ends on
    a day: Sundays 16:00 "until 27 December" (UNTIL at 16:00 that day) moved to 17:00 still
    meet on 27 December. When the new rule ends at the very instant the old one did (the
    rule was not changed, or its end was not), its UNTIL becomes its last occurrence on the
    old series' last day (its date in the old zone, read in the new one). An end given anew
    is taken as given. A rule that does not parse is left to `Schedule` to refuse.
    """
    if old._until is None:
        return rule_text
    try:
        rule = rec.parse_rule(rule_text, rec.parse_local(starts_at_local), rec.zone(timezone))
    except rec.RecurrenceError:
        return rule_text
    last = rec.last_occurrence(old)
    if rule._until != old._until or last is None:
        return rule_text
    ending = rec.ending_on_day(rule, last.astimezone(rec.zone(old_zone)).date())
    return rec.rule_text(ending) if ending is not None else rule_text


def end_before(
    timezone: str, starts_at_local: str, rule_text: str, later: RoundSeries
) -> str | None:
    """`rule_text`, a new schedule's rule, ending before `later` (the series a change saved
    before carries this one on with) takes over: its UNTIL becomes its last occurrence on a
    day before the later series' first (that day in the later series' zone, read in this
    one, as `end_kept` reads a kept end, or in this zone where it comes sooner), so the two
    never meet the same day and the new one never meets after the later one has begun. As given when
    it ends sooner; None when it has no occurrence before then. A rule that does not parse
    is left to `Schedule` to refuse.
    """
    try:
        rule = rec.parse_rule(rule_text, rec.parse_local(starts_at_local), rec.zone(timezone))
    except rec.RecurrenceError:
        return rule_text
    # Its first day in its own zone, or in this one where that comes sooner (a zone behind
    # it: Sunday 04:00 in Kathmandu is Saturday evening in Lima).
    first_day = min(
        later.starts_at.astimezone(rec.zone(later.timezone)).date(),
        later.starts_at.astimezone(rec.zone(timezone)).date(),
    )
    ending = rec.ending_on_day(rule, first_day - timedelta(days=1))
    if ending is None:
        return None
    last = rec.last_occurrence(rule)
    if last is not None and last <= ending._until:
        return rule_text
    return rec.rule_text(ending)


def last_before(rule: rrule, instant: datetime) -> datetime | None:
    d = rule.before(instant.astimezone(rule._dtstart.tzinfo), inc=False)
    return d.astimezone(UTC) if d else None


async def exception_rows(
    session: AsyncSession, series_id: str
) -> Sequence[RoundOccurrenceException]:
    return (
        await session.scalars(
            select(RoundOccurrenceException).where(
                col(RoundOccurrenceException.series_id) == series_id
            )
        )
    ).all()


def as_exceptions(rows: Iterable[RoundOccurrenceException]) -> Exceptions:
    return {r.occurrence_start: (r.cancelled, r.moved_to, r.moved_duration_minutes) for r in rows}


async def exceptions_of(session: AsyncSession, series_id: str) -> Exceptions:
    return as_exceptions(await exception_rows(session, series_id))


async def window(
    session: AsyncSession, series: RoundSeries, start: datetime, end: datetime
) -> list[rec.Occurrence]:
    """The series' occurrences (not cancelled) between `start` and `end`."""
    return rec.expand(
        rule_of(series),
        timedelta(minutes=series.duration_minutes),
        start,
        end,
        await exceptions_of(session, series.id),
    )


async def upcoming(
    session: AsyncSession,
    series: RoundSeries,
    after: datetime,
    count: int,
    reach: timedelta = timedelta(days=731),
) -> list[Occurrence]:
    """The series' next `count` occurrences not over at `after` (cancelled ones left out,
    moves applied), within `reach`: the coming two months first, the whole reach only when
    they hold fewer."""
    rule, exceptions = rule_of(series), await exceptions_of(session, series.id)
    duration = timedelta(minutes=series.duration_minutes)
    found = rec.expand(rule, duration, after, after + min(_SOON, reach), exceptions)
    if len(found) < count:
        found = rec.expand(rule, duration, after, after + reach, exceptions)
    return found[:count]


def planned(
    series: RoundSeries, start: datetime, end: datetime, *, past_its_end: bool = False
) -> list[Occurrence]:
    """The series' occurrences overlapping [start, end) by its rule alone (no cancellation
    or move applied). `past_its_end`: only those its end (UNTIL) leaves out, where a series
    ended by a split would have met had it carried on."""
    rule = rule_of(series)
    ended = rule._until
    if past_its_end:
        rule = rule.replace(until=None)
    found = rec.expand(rule, timedelta(minutes=series.duration_minutes), start, end, {})
    if past_its_end and ended is not None:
        return [o for o in found if o.start > ended]
    return found


def last_start(series: RoundSeries) -> datetime | None:
    """The last start (UTC) of a series whose rule ends (UNTIL or COUNT), None for an
    endless one; cancellations and moves aside."""
    last = rec.last_occurrence(rule_of(series))
    return last.astimezone(UTC) if last is not None else None


class Schedule:
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
            raise invalid_schedule(e) from e
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
