"""The event kinds partners may subscribe to: one list, read by the webhook schema, its
validation and the OpenAPI `webhooks` object. No FastAPI, no domain imports.

Each kind names what its `data` carries besides `event_id`, `resource_type`,
`resource_id` and `organization_id` (the thin payload, app/partners/feed.py): ids and
statuses, never patient data; a partner reads the resource itself for the rest.
"""

from enum import StrEnum


class EventKind(StrEnum):
    case_submitted = "case.submitted"
    case_offered = "case.offered"
    case_assigned = "case.assigned"
    case_answered = "case.answered"
    case_unmatched = "case.unmatched"
    case_overdue = "case.overdue"
    case_cancelled = "case.cancelled"
    case_closed = "case.closed"
    message_created = "message.created"
    note_signed = "note.signed"
    followup_due = "followup.due"
    followup_overdue = "followup.overdue"
    round_updated = "round.updated"
    audit_checkpoint = "audit.checkpoint"


# What each kind says happened, and the keys its `data` may carry (beside the thin ones).
CATALOG: dict[EventKind, tuple[str, tuple[str, ...]]] = {
    EventKind.case_submitted: (
        "A facility submitted a case.",
        ("case_id", "status", "specialty", "urgency"),
    ),
    EventKind.case_offered: (
        "The case was offered to one or more specialists.",
        ("case_id", "status", "previous_status"),
    ),
    EventKind.case_assigned: (
        "A specialist accepted the case.",
        ("case_id", "status", "previous_status", "offer_id"),
    ),
    EventKind.case_answered: (
        "The assigned specialist signed a consult note.",
        ("case_id", "status", "previous_status", "note_id"),
    ),
    EventKind.case_unmatched: (
        "Nobody is left to offer the case to, or its specialist was deactivated (or is no"
        " longer a specialist) before she answered: status_reason says which; coordinators"
        " are told.",
        ("case_id", "status", "previous_status", "status_reason"),
    ),
    EventKind.case_overdue: (
        "The case passed its respond_by with no signed note (announced once).",
        ("case_id", "status", "urgency"),
    ),
    EventKind.case_cancelled: (
        "The case was cancelled.",
        ("case_id", "status", "previous_status"),
    ),
    EventKind.case_closed: (
        "The case was closed with its outcome.",
        ("case_id", "status", "previous_status"),
    ),
    EventKind.message_created: (
        "A message was posted in the case's consult session.",
        ("case_id", "message_id", "seq"),
    ),
    EventKind.note_signed: (
        "A consult, progress or addendum note was signed.",
        ("case_id", "note_id", "kind", "version"),
    ),
    EventKind.followup_due: (
        "A follow-up fell due.",
        ("case_id", "follow_up_id", "due_at"),
    ),
    EventKind.followup_overdue: (
        "A follow-up is still open FOLLOWUP_OVERDUE_HOURS after it fell due (announced once).",
        ("case_id", "follow_up_id", "due_at"),
    ),
    EventKind.round_updated: (
        "A round series, occurrence, agenda or attendance changed.",
        ("round_id", "change", "occurrence_start"),
    ),
    EventKind.audit_checkpoint: (
        "The audit chain's head, signed (staff only; at least hourly: docs/security.md).",
        ("checkpoint",),
    ),
}

WEBHOOK_EVENTS: tuple[str, ...] = tuple(k.value for k in EventKind)

# Internal kinds: written to the outbox for the domains that listen in the same transaction
# (app/events/service.py), never an EventKind, so no partner can subscribe to them; kept off
# the changes feed and the inbox by app/events/models.py INTERNAL_EVENTS, as session.ended.
# An admin deactivated a user (resource "user"): matching takes back the cases a specialist
# held and her pending offers (app/matching/departures.py); auth never imports matching.
USER_DEACTIVATED = "user.deactivated"
