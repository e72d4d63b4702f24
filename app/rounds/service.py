"""Virtual rounds, the public service: what the router and other domains call.

The rules live in the modules named after what they govern: `access` (who sees and edits a
series), `series` (scheduling, editing from a date on, deleting), `occurrences` (one
occurrence cancelled or moved), `participants` (who takes part; double bookings), `agenda`
(cases presented and the round's recommendations) and `attendance`.
"""

from app.rounds.access import (
    can_edit,
    etag,
    get_editable,
    get_named,
    get_series,
    host_named,
    visible_series,
)
from app.rounds.agenda import (
    add_agenda_item,
    agenda,
    remove_agenda_item,
    suggested_agenda,
    update_agenda_item,
)
from app.rounds.attendance import attendance, record_attendance
from app.rounds.errors import (
    AgendaItemNotFound,
    OccurrenceCancelled,
    OccurrenceNotFound,
    OccurrenceNotStarted,
    RoundNotFound,
    ScheduleConflict,
)
from app.rounds.occurrences import (
    cancel_occurrence,
    move_occurrence,
    occurrence_view,
    occurrences,
    parse_start,
    resolve_occurrence,
)
from app.rounds.participants import (
    add_participant,
    find_conflict,
    list_participants,
    remove_participant,
)
from app.rounds.schedule import rule_of
from app.rounds.series import create, delete_series, list_series, update

__all__ = [
    "AgendaItemNotFound",
    "OccurrenceCancelled",
    "OccurrenceNotFound",
    "OccurrenceNotStarted",
    "RoundNotFound",
    "ScheduleConflict",
    "add_agenda_item",
    "add_participant",
    "agenda",
    "attendance",
    "can_edit",
    "cancel_occurrence",
    "create",
    "delete_series",
    "etag",
    "find_conflict",
    "get_editable",
    "get_named",
    "get_series",
    "list_participants",
    "host_named",
    "list_series",
    "move_occurrence",
    "occurrence_view",
    "occurrences",
    "parse_start",
    "record_attendance",
    "remove_agenda_item",
    "remove_participant",
    "resolve_occurrence",
    "rule_of",
    "suggested_agenda",
    "update",
    "update_agenda_item",
    "visible_series",
]
