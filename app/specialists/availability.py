"""Weekly windows and time off, as plain functions (no database, no FastAPI).

A window is kept as minutes from Monday 00:00 in the specialist's own zone, so "is she
available now" is one comparison per window once the local minute of the week is known,
and that minute is computed once per time zone, not once per specialist.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def hhmm_to_minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def window_span(weekday: int, start: str, end: str) -> tuple[int, int]:
    """(start, end) minutes from Monday 00:00 local; end is exclusive."""
    base = weekday * MINUTES_PER_DAY
    return base + hhmm_to_minutes(start), base + hhmm_to_minutes(end)


def overlapping(windows: list[dict[str, Any]]) -> list[int]:
    """Indexes of the windows that overlap another, both of each pair (so the caller can
    point at every row she has to look at)."""
    spans = sorted(
        (window_span(w["weekday"], w["start"], w["end"]), i) for i, w in enumerate(windows)
    )
    bad: set[int] = set()
    last_end, last = -1, -1  # the latest end so far, and its window
    for (start, end), i in spans:
        if start < last_end:
            bad.update((i, last))
        if end > last_end:
            last_end, last = end, i
    return sorted(bad)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo's own cache keeps only a few zones strongly; matching touches dozens per call.
    return ZoneInfo(name)


def minute_of_week(at: datetime, zone: str) -> int:
    local = at.astimezone(_zone(zone))
    return local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute


def dst_shift(at: datetime, zone: str) -> tuple[int, int] | None:
    """The zone's clock change in the week after `at`, if any: (minutes from `at` until it,
    minutes the clock moves: 60 in spring, -60 in autumn). A window's start in wall-clock
    minutes from `at` is that much nearer (or farther) in real minutes once past it."""
    tz = _zone(zone)
    start = at.astimezone(UTC)
    before = start.astimezone(tz).utcoffset()
    if (start + timedelta(minutes=MINUTES_PER_WEEK)).astimezone(tz).utcoffset() == before:
        return None  # (no zone changes its clock twice in a week)
    lo, hi = 0, MINUTES_PER_WEEK  # the first minute with the new offset, by bisection
    while lo < hi:
        mid = (lo + hi) // 2
        if (start + timedelta(minutes=mid)).astimezone(tz).utcoffset() == before:
            lo = mid + 1
        else:
            hi = mid
    after = (start + timedelta(minutes=lo)).astimezone(tz).utcoffset()
    assert before is not None and after is not None
    return lo, int((after - before).total_seconds() // 60)


def real_minutes(wall_minutes: int, shift: tuple[int, int] | None) -> int:
    """Wall-clock minutes ahead (from minute-of-week arithmetic) as real minutes."""
    if shift is None or wall_minutes == 0 or wall_minutes < shift[0]:
        return wall_minutes
    return max(1, wall_minutes - shift[1])


def available_at(spans: list[tuple[int, int]], mow: int) -> bool:
    return any(start <= mow < end for start, end in spans)


def minutes_until_next_window(
    spans: list[tuple[int, int]], mow: int, shift: tuple[int, int] | None = None
) -> int | None:
    """Minutes until a window is open (0 if one is open now), None if there is none;
    `shift` (dst_shift) makes them real minutes across a clock change."""
    if not spans:
        return None
    if available_at(spans, mow):
        return 0
    return min(real_minutes((start - mow) % MINUTES_PER_WEEK, shift) for start, _ in spans)


def next_window_start(
    spans: list[tuple[int, int]],
    zone: str,
    time_off: list[tuple[datetime, datetime]],
    now: datetime,
) -> datetime | None:
    """When she is next inside a weekly window (`spans`, local minutes of the week in `zone`)
    and not on time off (UTC spans): `now`'s minute when she is already, None with no
    windows. Each time off moves the answer at most once, so this loops at most once per
    time off; the minutes are real ones across a clock change, as ranking counts them."""
    if not spans:
        return None
    at = now.astimezone(UTC).replace(second=0, microsecond=0)
    for _ in range(len(time_off) + 1):
        wait = minutes_until_next_window(spans, minute_of_week(at, zone), dst_shift(at, zone))
        assert wait is not None
        start = at + timedelta(minutes=wait)
        ends = [end for s, end in time_off if s <= start < end]
        if not ends:
            return start
        at = _ceil_minute(max(ends))
    return None


def _ceil_minute(at: datetime) -> datetime:
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + timedelta(minutes=1)


def time_off_span(
    start: date | datetime, end: date | datetime, zone: str
) -> tuple[datetime, datetime]:
    """A span in UTC. Dates are whole local days in the specialist's zone, the end day
    included; times must carry an offset."""
    tz = ZoneInfo(zone)

    def to_utc(v: date | datetime, is_end: bool) -> datetime:
        if isinstance(v, datetime):
            return v.astimezone(UTC)
        day = v + timedelta(days=1) if is_end else v
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)

    return to_utc(start, False), to_utc(end, True)


HOURS_PER_WORD = 56


def hour_masks(spans: list[tuple[int, int]]) -> tuple[int, int, int]:
    """Bits for the hours of the week (local) that any window touches, 56 to a word."""
    bits = 0
    for start, end in spans:
        for hour in range(start // 60, (end - 1) // 60 + 1):
            bits |= 1 << hour
    mask = (1 << HOURS_PER_WORD) - 1
    return (bits & mask, (bits >> HOURS_PER_WORD) & mask, (bits >> 2 * HOURS_PER_WORD) & mask)
