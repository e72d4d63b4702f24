"""Recurrence: RFC 5545 rules parsed by python-dateutil and expanded in the series' own zone.

Expanding from a zone-aware DTSTART keeps the wall time (09:00 stays 09:00) and lets the UTC
instant move when daylight saving changes. Pure functions, no database.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# A rule must produce its first occurrence within this horizon (also bounds impossible rules,
# which dateutil would otherwise search until year 9999).
FIRST_HORIZON = timedelta(days=366 * 5)
ALLOWED_FREQS = {DAILY, WEEKLY, MONTHLY, YEARLY}


# The `code`s of a rule that is no RRULE at all, and of one whose end is not in UTC (a
# client says them in its own words).
RULE_INVALID = "rrule_invalid"
UNTIL_NOT_UTC = "rrule_until_utc"


class RecurrenceError(ValueError):
    """A rule, zone or wall time that cannot make a schedule; `field` names the culprit,
    `code` (when there is one) the kind of failure, for programs."""

    def __init__(self, field: str, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail
        self.code = code


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise RecurrenceError("timezone", f"Unknown IANA time zone {name!r}.") from e


def parse_local(value: str) -> datetime:
    try:
        return datetime.strptime(value, LOCAL_FORMAT)
    except ValueError as e:
        raise RecurrenceError("starts_at_local", "Give the wall time as YYYY-MM-DDTHH:MM.") from e


def exists_in_zone(local: datetime, tz: ZoneInfo) -> bool:
    """False for a wall time skipped by a spring-forward change (02:30 on such a day)."""
    aware = local.replace(tzinfo=tz)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return back == local


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A wall time that must exist; ambiguous (fall-back) times take the first instant."""
    if not exists_in_zone(local, tz):
        raise RecurrenceError(
            "starts_at_local",
            f"{local.strftime(LOCAL_FORMAT)} does not exist in {tz.key}: the clocks skip it "
            "(daylight saving starts). Choose another time.",
        )
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def to_local_string(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime(LOCAL_FORMAT)


def rfc3339(instant: datetime) -> str:
    """A UTC instant as occurrences are named: 2026-12-08T23:00:00Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_rule_text(text: str) -> str:
    text = text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    return text.upper()


def parse_rule(text: str, dtstart_local: datetime, tz: ZoneInfo) -> rrule:
    """The rule bound to its start; every way it can fail is a RecurrenceError on `rrule`."""
    body = normalize_rule_text(text)
    if not body or any(c in body for c in "\r\n") or "DTSTART" in body or ":" in body:
        raise RecurrenceError(
            "rrule",
            "Give one RRULE value, e.g. FREQ=WEEKLY;BYDAY=TU "
            "(no DTSTART: the start is starts_at_local).",
            RULE_INVALID,
        )
    try:
        rule = rrulestr(body, dtstart=dtstart_local.replace(tzinfo=tz))
    except (ValueError, TypeError, KeyError, IndexError) as e:
        msg, code = str(e), RULE_INVALID
        if "UNTIL" in msg:
            msg = "UNTIL must be given in UTC, ending in Z (e.g. UNTIL=20271231T235959Z)."
            code = UNTIL_NOT_UTC
        elif "freq" in msg.lower() and "missing" in msg.lower():
            msg = "FREQ is required."
        raise RecurrenceError("rrule", f"Not a valid RFC 5545 RRULE: {msg}", code) from e
    if not isinstance(rule, rrule):
        raise RecurrenceError("rrule", "Give a single RRULE.", RULE_INVALID)
    if rule._freq not in ALLOWED_FREQS:
        raise RecurrenceError(
            "rrule", "Rounds recur at most daily: use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY."
        )
    if rule._interval < 1:
        raise RecurrenceError("rrule", "INTERVAL must be 1 or more.")
    if rule._count is not None and not 1 <= rule._count <= 1000:
        raise RecurrenceError("rrule", "COUNT must be between 1 and 1000.")
    return rule


def rule_text(rule: rrule) -> str:
    """The RRULE value as dateutil writes it (without its DTSTART line), UNTIL in UTC.

    dateutil writes UNTIL as a floating time, which RFC 5545 forbids beside a zoned DTSTART.
    """
    until = rule._until
    text = ""
    for line in str(rule.replace(until=None) if until else rule).splitlines():
        if line.startswith("RRULE:"):
            text = line[6:]
    if not text:
        raise RecurrenceError("rrule", "The rule could not be written back.")
    if until is not None:
        text += ";UNTIL=" + until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return text


def bounded(rule: rrule, end: datetime) -> rrule:
    """The same rule stopping at `end`, so no search runs past what was asked."""
    until = rule._until
    if until is not None and until <= end:
        return rule
    if rule._count is not None:
        return rule  # a COUNT rule ends by itself once its first occurrence was found
    return rule.replace(until=end)


def first_occurrence(rule: rrule) -> datetime:
    # Searched without COUNT up to a horizon: an impossible rule would otherwise never end.
    horizon = rule._dtstart + FIRST_HORIZON
    until = rule._until if rule._until is not None and rule._until < horizon else horizon
    first: datetime
    for first in rule.replace(count=None, until=until):
        return first
    raise RecurrenceError(
        "rrule", "The rule yields no occurrence within five years of starts_at_local."
    )


def last_occurrence(rule: rrule) -> datetime | None:
    """The last start of a finite rule (COUNT or UNTIL), None for an endless one."""
    if rule._count is None and rule._until is None:
        return None
    last = None
    for d in rule:
        last = d
    return last


@dataclass(frozen=True)
class Occurrence:
    original_start: datetime  # UTC, the RECURRENCE-ID
    start: datetime  # UTC, after a move
    end: datetime
    cancelled: bool
    moved: bool


def expand(
    rule: rrule,
    duration: timedelta,
    start: datetime,
    end: datetime,
    exceptions: dict[datetime, tuple[bool, datetime | None, int | None]],
    *,
    include_cancelled: bool = False,
) -> list[Occurrence]:
    """Occurrences whose (possibly moved) interval overlaps [start, end), in UTC, by start.

    `exceptions` maps an original UTC start to (cancelled, moved_to, moved_duration_minutes).
    """
    # An occurrence moved into the window may have its original start far outside it.
    lo, hi = start - duration, end
    for original, (_, moved_to, _) in exceptions.items():
        if moved_to is not None and start - timedelta(days=1) <= moved_to < end:
            lo, hi = min(lo, original), max(hi, original + timedelta(seconds=1))
    tz = rule._dtstart.tzinfo
    r = bounded(rule, hi.astimezone(tz))
    out: list[Occurrence] = []
    for d in r.xafter(lo.astimezone(tz), inc=True):
        if d >= hi.astimezone(tz):
            break
        original = d.astimezone(UTC)
        cancelled, moved_to, moved_dur = exceptions.get(original, (False, None, None))
        if cancelled and not include_cancelled:
            continue
        s = moved_to or original
        e = s + (timedelta(minutes=moved_dur) if moved_dur else duration)
        if e > start and s < end:
            out.append(Occurrence(original, s, e, cancelled, moved_to is not None))
    out.sort(key=lambda o: o.start)
    return out


def is_occurrence(rule: rrule, instant: datetime) -> bool:
    """Whether the rule produces an occurrence starting exactly at this UTC instant."""
    tz = rule._dtstart.tzinfo
    local = instant.astimezone(tz)
    r = bounded(rule, local + timedelta(seconds=1))
    for d in r.xafter(local, inc=True):
        found: datetime = d.astimezone(UTC)
        return found == instant.astimezone(UTC)
    return False


def same_day(rule: rrule, instant: datetime, old_zone: ZoneInfo) -> datetime | None:
    """The rule's occurrence on the day an occurrence of another schedule fell (its date in
    `old_zone`, that schedule's zone): its start in UTC, None when the rule has none that day.

    What a schedule change does to one occurrence: 18:00 on 8 December becomes 17:00 on
    8 December. Of several that day, the one nearest the old instant.
    """
    tz = rule._dtstart.tzinfo
    day = instant.astimezone(old_zone).date()
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    found: list[datetime] = []
    for d in bounded(rule, midnight + timedelta(days=2)).xafter(midnight, inc=True):
        if d.date() != day:
            break
        found.append(d.astimezone(UTC))
    if not found:
        return None
    return min(found, key=lambda d: abs(d - instant))


def held_sooner(rule: rrule, start: datetime, day: date) -> bool:
    """Whether a series of `rule` starting at `start` leaves `day` out only by starting
    later: the rule, begun on `day` (at its own wall time) instead, has an occurrence that
    day and still has `start`. Sundays at 17:00 from 20 December leave out 13 December;
    Wednesdays from the 16th do not leave out Tuesday the 15th, nor does every other Sunday
    from the 20th leave out the 13th (another fortnight)."""
    tz = rule._dtstart.tzinfo
    anchor = datetime.combine(day, rule._dtstart.time(), tzinfo=tz)
    sooner = rule.replace(dtstart=anchor, count=None)
    for d in bounded(sooner, anchor + timedelta(days=1)):
        return bool(d.date() == day) and is_occurrence(sooner, start)
    return False


def ending_on_day(rule: rrule, day: date) -> rrule | None:
    """`rule` ending with its last occurrence on or before `day` (in its own zone), as its
    UNTIL; None when it has none by then.

    An end is a day: "until 27 December" still holds 27 December when its time moves later
    (an UNTIL kept as the old last start's UTC instant would drop that day).
    """
    tz = rule._dtstart.tzinfo
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    last = bounded(rule.replace(until=None, count=None), end).before(end)
    return rule.replace(until=last, count=None) if last is not None else None
