"""The rounds' refusals, and the one way a lost unique-key race becomes a 409."""

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound, Unprocessable
from app.rounds import recurrence as rec


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


class OccurrenceHeld(Conflict):
    """Attendance is recorded for the occurrence: it was held, and a held round counts in
    the programme's figures. Correct its attendance first if it did not take place."""

    code, title = "occurrence-held", "Occurrence held"


class OccurrenceChangesLost(Conflict):
    """A schedule change would drop occurrences someone cancelled or moved."""

    code, title = "occurrence-changes-lost", "Occurrence changes would be lost"


class OccurrenceSlotTaken(Conflict):
    """Another occurrence of the round would start at the same instant (an occurrence is
    named by its start: two at one start cannot both be named)."""

    code, title = "occurrence-slot-taken", "Another occurrence starts then"


class OccurrencesLeftOut(Unprocessable):
    """A new series would start after occurrences the change applies to, which it would
    hold had it begun sooner: the old series ends before them, so they would be in neither."""

    code, title = "occurrences-left-out", "Occurrences would be left out"


class LaterSeriesTakesOver(Unprocessable):
    """A schedule change with no occurrence before the series a change saved before carries
    the round on with (its next in the chain) takes over: it would only double that one's."""

    code, title = "later-series-takes-over", "A later change takes over"


class OccurrenceNotStarted(Conflict):
    """Attendance is recorded once the occurrence has begun."""

    code, title = "occurrence-not-started", "Occurrence not started"


class AgendaItemNotFound(NotFound):
    """No such agenda item on this occurrence."""


class ParticipantNotFound(NotFound):
    """The user takes no part in this round."""


class AgendaItemRecommended(Conflict):
    """The round's recommendation on this case is recorded: it is part of the case's record,
    so the item is not taken off the agenda."""

    code, title = "agenda-item-recommended", "Recommendation recorded"


class PresentsOnAgenda(Conflict):
    """The participant presents a case at an occurrence still to come (the presenter must be
    a host clinician or a participant)."""

    code, title = "presents-on-agenda", "Presents a coming case"


def slot_taken(
    detail: str, clashes: list[tuple[datetime, datetime, datetime]]
) -> OccurrenceSlotTaken:
    """The refusal of one move, or of a schedule change, that would put an occurrence at
    another's start; `clashes` holds (original start, moved to, the original start of the
    occurrence already starting then)."""
    return OccurrenceSlotTaken(
        detail,
        clashes=[
            {
                "original_start": rec.rfc3339(original),
                "moved_to": rec.rfc3339(moved_to),
                "taken_by": rec.rfc3339(taken_by),
            }
            for original, moved_to, taken_by in clashes
        ],
    )


def invalid_schedule(e: rec.RecurrenceError) -> Unprocessable:
    error = {"pointer": f"/{e.field}", "detail": e.detail}
    if e.code:
        error["code"] = e.code  # rrule_invalid: a client says it in its reader's words
    return Unprocessable(e.detail, errors=[error], code="invalid-schedule")


async def flush_unique(session: AsyncSession, what: str) -> None:
    """A unique key lost to a concurrent request is a 409, not a 500 (the request rolls back)."""
    try:
        await session.flush()
    except IntegrityError as e:
        raise Conflict(f"{what} changed at the same moment; send the request again.") from e
