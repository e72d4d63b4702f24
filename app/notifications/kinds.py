"""What people are told (kinds) and where (channels), and what each kind goes to by default."""

from enum import StrEnum


class Kind(StrEnum):
    offer = "offer"
    offer_expiring = "offer_expiring"
    case_unmatched = "case_unmatched"
    case_overdue = "case_overdue"
    note_signed = "note_signed"
    case_added = "case_added"  # added to a case's people: an interpreter, a second specialist
    followup_assigned = "followup_assigned"  # a follow-up planned for her, or handed to her
    followup_due = "followup_due"
    followup_overdue = "followup_overdue"
    round_reminder = "round_reminder"
    round_changed = "round_changed"  # a meeting moved or cancelled, a new schedule, removed
    round_added = "round_added"  # added to a round's participants
    messages = "messages"
    digest = "digest"


class Channel(StrEnum):
    email = "email"
    push = "push"
    sms = "sms"
    in_app = "in_app"


class AccountMail(StrEnum):
    """Emails about an account, not a notification: always sent, never in quiet hours' way."""

    invitation = "invitation"
    password_reset = "password_reset"
    phone_code = "phone_code"


E, P, S, A = Channel.email, Channel.push, Channel.sms, Channel.in_app
DEFAULT_CHANNELS: dict[Kind, frozenset[Channel]] = {
    Kind.offer: frozenset({E, P, S, A}),
    Kind.offer_expiring: frozenset({P, S, A}),
    Kind.case_unmatched: frozenset({E, A}),
    Kind.case_overdue: frozenset({E, A}),
    Kind.note_signed: frozenset({E, A}),
    Kind.case_added: frozenset({E, A}),
    Kind.followup_assigned: frozenset({E, A}),
    Kind.followup_due: frozenset({E, A}),
    Kind.followup_overdue: frozenset({E, A}),
    Kind.round_reminder: frozenset({E, A}),
    Kind.round_changed: frozenset({E, A}),
    Kind.round_added: frozenset({E, A}),
    Kind.messages: frozenset({E, A}),
    Kind.digest: frozenset({E}),
}
# Sent from outside the process: the worker's channels (in-app is the notification row).
OUTSIDE = (Channel.email, Channel.push, Channel.sms)
