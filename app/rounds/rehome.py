"""What a schedule change does to the rows kept per occurrence (cancellations and moves,
agenda items, attendance), each keyed by its occurrence's original start.

A new wall time or zone changes every original start, so a row follows its occurrence to the
new schedule's occurrence on the same day (18:00 on 8 December -> 17:00 on 8 December). A
cancellation or a move whose day the new schedule does not have cannot follow: `plan` names
them, and the change is refused unless whoever makes it says to discard them (a coordinator
who moved an occurrence or cancelled one never finds it undone unseen). A move keeps the
instant it was moved to; when the new schedule has an occurrence of its own starting then,
the change is refused as a single move onto a taken start is (two occurrences at one start
cannot both be named by it), whatever is said about discarding.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.rounds import recurrence as rec
from app.rounds.errors import OccurrenceChangesLost, OccurrenceSlotTaken, slot_taken
from app.rounds.models import RoundAgendaItem, RoundAttendance, RoundOccurrenceException
from app.rounds.participants import plain_instant

# The rows kept per occurrence, each keyed by (series_id, occurrence_start).
OccurrenceRow = TypeVar("OccurrenceRow", RoundOccurrenceException, RoundAgendaItem, RoundAttendance)
Move = tuple[OccurrenceRow, datetime]

SINCE_EVER = datetime.min.replace(tzinfo=UTC)


async def rows_since(
    session: AsyncSession, model: type[OccurrenceRow], series_id: str, since: datetime
) -> Sequence[OccurrenceRow]:
    """The series' rows of `model` for occurrences from `since` on, by occurrence."""
    return (
        await session.scalars(
            select(model)
            .where(col(model.series_id) == series_id, col(model.occurrence_start) >= since)
            .order_by(col(model.occurrence_start))
        )
    ).all()


class Plan:
    """Where the cancellations and moves of a series go under a new schedule.

    `staying` are the moves of occurrences before the change (a split leaves them with the
    old series): they go nowhere, but they too may not start where the new schedule does.
    """

    def __init__(
        self,
        rows: Iterable[RoundOccurrenceException],
        rule: rrule,
        old_zone: ZoneInfo,
        staying: Iterable[RoundOccurrenceException] = (),
    ) -> None:
        self.kept: list[Move[RoundOccurrenceException]] = []
        self.lost: list[RoundOccurrenceException] = []
        taken: set[datetime] = set()
        for row in rows:
            key = rec.same_day(rule, row.occurrence_start, old_zone)
            if key is None or key in taken:
                self.lost.append(row)
            else:
                taken.add(key)
                self.kept.append((row, key))
        # A move that lands on its own occurrence's new start is no move (see `rehome`);
        # one that lands on another occurrence's start of the new schedule is a clash. A
        # cancelled occurrence keeps no time of its own: where its move would clash, the
        # move goes and the cancellation stays on its day (`unmoved`); nothing to refuse,
        # since it could not be moved elsewhere first.
        moved = [*self.kept, *((r, r.occurrence_start) for r in staying)]
        landing = [
            row
            for row, key in moved
            if row.moved_to is not None
            and row.moved_to != key
            and rec.is_occurrence(rule, row.moved_to)
        ]
        self.clashes: list[RoundOccurrenceException] = [r for r in landing if not r.cancelled]
        self.unmoved = [r for r in landing if r.cancelled]

    def check(self, zone: str, discard: bool) -> None:
        """Refuse a change that would put two occurrences at one start, or drop some
        cancellations or moves unless told to discard them. The clash first: discarding
        cannot settle it, so she is not asked to agree to a loss only to be refused."""
        if self.clashes:
            raise clash_problem(self.clashes, zone)
        if self.lost and not discard:
            raise lost_problem(self.lost, zone)


async def plan(
    session: AsyncSession, series_id: str, rule: rrule, since: datetime, old_zone: str
) -> Plan:
    rows = await rows_since(session, RoundOccurrenceException, series_id, since)
    staying = (
        await session.scalars(
            select(RoundOccurrenceException).where(
                col(RoundOccurrenceException.series_id) == series_id,
                col(RoundOccurrenceException.occurrence_start) < since,
                col(RoundOccurrenceException.moved_to).is_not(None),
                col(RoundOccurrenceException.cancelled).is_(False),
            )
        )
    ).all()
    return Plan(rows, rule, rec.zone(old_zone), staying)


def clash_problem(clashes: list[RoundOccurrenceException], zone: str) -> OccurrenceSlotTaken:
    said = [
        f"the occurrence of {plain_instant(row.occurrence_start, zone)}, moved to "
        f"{plain_instant(row.moved_to, zone)}"
        for row in clashes
        if row.moved_to is not None
    ]
    return slot_taken(
        "Under the new schedule, an occurrence of this round would start at the same time as "
        f"{'; '.join(said)}. Move "
        f"{'that occurrence' if len(clashes) == 1 else 'those occurrences'} to another time "
        "first, or choose another schedule; nothing was changed.",
        [(row.occurrence_start, row.moved_to, row.moved_to) for row in clashes if row.moved_to],
    )


def lost_problem(lost: list[RoundOccurrenceException], zone: str) -> OccurrenceChangesLost:
    said = []
    for row in lost:
        when = plain_instant(row.occurrence_start, zone)
        if row.cancelled:
            said.append(f"the cancellation of {when}")
        else:
            said.append(
                f"the move of {when} to {plain_instant(row.moved_to or row.occurrence_start, zone)}"
            )
    return OccurrenceChangesLost(
        f"The new schedule has no occurrence on the day of {'; '.join(said)}, so "
        f"{'this change' if len(lost) == 1 else 'these changes'} would be lost. Cancel or move "
        "the new schedule's occurrences as needed, and send discard_occurrence_changes: true "
        "to save the schedule without them.",
        lost=[
            {
                "original_start": rec.rfc3339(row.occurrence_start),
                "cancelled": row.cancelled,
                "moved_to": rec.rfc3339(row.moved_to) if row.moved_to else None,
                "reason": row.reason,
            }
            for row in lost
        ],
    )


async def _rekey(session: AsyncSession, target_id: str, moves: list[Move[OccurrenceRow]]) -> None:
    """Give each row its new series and key. One at a time, in an order in which no row
    takes a key another still holds (the unique keys are checked row by row): those moving
    earlier from the earliest, then those moving later from the latest."""
    earlier: list[Move[OccurrenceRow]] = []
    later: list[Move[OccurrenceRow]] = []
    for row, key in moves:
        if key == row.occurrence_start:
            row.series_id = target_id
        else:
            (earlier if key < row.occurrence_start else later).append((row, key))
    earlier.sort(key=lambda m: m[0].occurrence_start)
    later.sort(key=lambda m: m[0].occurrence_start, reverse=True)
    for moving, new_key in [*earlier, *later]:
        moving.series_id, moving.occurrence_start = target_id, new_key
        await session.flush()


async def _agenda(
    session: AsyncSession, from_id: str, rule: rrule, since: datetime, zone: ZoneInfo
) -> list[Move[RoundAgendaItem]]:
    """Where each agenda item goes: its day's occurrence, else the next one (a case waiting
    to be presented stays on the agenda); one occurrence takes a case once."""
    moves: list[Move[RoundAgendaItem]] = []
    taken: set[tuple[datetime, str]] = set()
    for it in await rows_since(session, RoundAgendaItem, from_id, since):
        key = rec.same_day(rule, it.occurrence_start, zone)
        if key is None:
            nxt = rule.after(it.occurrence_start.astimezone(rule._dtstart.tzinfo), inc=True)
            if nxt is None:
                continue  # nowhere to go; it stays with the old series' record
            key = nxt.astimezone(UTC)
        if (key, it.case_id) in taken:
            await session.delete(it)
            continue
        taken.add((key, it.case_id))
        moves.append((it, key))
    await session.flush()
    return moves


async def _attendance(
    session: AsyncSession, from_id: str, rule: rrule, since: datetime, zone: ZoneInfo
) -> list[Move[RoundAttendance]]:
    """Attendance follows its occurrence; of one the schedule no longer has, it stays where
    it was recorded."""
    moves: list[Move[RoundAttendance]] = []
    present: set[tuple[datetime, str]] = set()
    for att in await rows_since(session, RoundAttendance, from_id, since):
        key = rec.same_day(rule, att.occurrence_start, zone)
        if key is not None and (key, att.user_id) not in present:
            present.add((key, att.user_id))
            moves.append((att, key))
    return moves


async def rehome(
    session: AsyncSession,
    from_id: str,
    target_id: str,
    rule: rrule,
    since: datetime,
    old_zone: str,
    exceptions: Plan,
) -> None:
    """Carry exceptions, agenda and attendance from `since` on over to the new schedule.

    Cancellations and moves go as `exceptions` planned (the lost ones, which the caller
    agreed to discard, are deleted); a move now landing on its own occurrence's new start is
    no move.
    """
    zone = rec.zone(old_zone)
    for lost in exceptions.lost:
        await session.delete(lost)
    await session.flush()
    for exc, key in exceptions.kept:
        if exc.moved_to == key:
            exc.moved_to = None
    for exc in exceptions.unmoved:
        exc.moved_to, exc.moved_duration_minutes = None, None
    await _rekey(session, target_id, exceptions.kept)
    await _rekey(session, target_id, await _agenda(session, from_id, rule, since, zone))
    await _rekey(session, target_id, await _attendance(session, from_id, rule, since, zone))
    await session.flush()
