"""What every text of a notification shares (content.py, round_texts.py): the reader's
language picked from a table, and a meeting's time as she reads it."""

from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date

T = TypeVar("T")


def pick(table: dict[str, T], language: str) -> T:
    """The reader's language, else English."""
    return table.get(language) or table["en"]


def local(value: Any, zone: str) -> datetime | None:
    """An ISO 8601 instant (or a zoned datetime) in the reader's zone; None for anything
    else (a floating time says no instant)."""
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return value.astimezone(ZoneInfo(zone)) if value.tzinfo else None


def day(start: datetime, language: str) -> str:
    """A day as the reader says it: "Thursday, December 3, 2026", "jeudi 3 décembre 2026"
    (Babel, from the Unicode CLDR)."""
    return format_date(start, "full", locale=language)


def meeting(start: Any, end: Any, zone: str, language: str) -> str:
    """A meeting as the reader says it, in her zone: "Thursday, December 3, 2026,
    20:30–21:30" (the start alone without an end); "-" when the start says no instant.
    The zone is named once, at the end of the text."""
    s, e = local(start, zone), local(end, zone) if end is not None else None
    if s is None or (end is not None and e is None):
        return "-"
    said = f"{day(s, language)}, {s:%H:%M}"
    return f"{said}–{e:%H:%M}" if e is not None else said


def meeting_for(start: Any, minutes: Any, zone: str, language: str) -> str:
    """A meeting given by its start and length in minutes (the start alone without one)."""
    s = local(start, "UTC")
    if s is None or not isinstance(minutes, int) or minutes <= 0:
        return meeting(start, None, zone, language)
    return meeting(s, s + timedelta(minutes=minutes), zone, language)
