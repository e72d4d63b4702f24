"""A series' schedule: its validated rule, and its occurrences with their exceptions applied."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from dateutil.rrule import rrule
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.rounds import recurrence as rec
from app.rounds.errors import invalid_schedule
from app.rounds.models import RoundOccurrenceException, RoundSeries

SCHEDULE_FIELDS = ("timezone", "starts_at_local", "duration_minutes", "rrule")

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
