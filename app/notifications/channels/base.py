"""What a channel reports for each message it was given."""

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    sent = "sent"
    retry = "retry"  # a temporary failure: try again later
    failed = "failed"  # a permanent failure: never again
    skipped = "skipped"  # nowhere to send it


@dataclass
class Result:
    delivery_id: str
    outcome: Outcome
    error: str | None = None
    # Push subscriptions the push service says are gone (404/410): removed at marking.
    gone: tuple[str, ...] = ()
