"""Request and response shapes for webhooks and the changes feed."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from app.core.schemas import ReadModel, RequestBody, SecretField, Stamped

EventName = Literal[
    "case.submitted",
    "case.offered",
    "case.assigned",
    "case.unmatched",
    "case.closed",
    "message.created",
    "note.signed",
    "followup.due",
    "round.updated",
    "audit.checkpoint",
]


class WebhookCreate(RequestBody):
    url: str = Field(max_length=2000, description="https URL resolving to a public address.")
    events: list[EventName] = Field(min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=200)


class WebhookRead(Stamped):
    url: str
    events: list[str]
    description: str | None
    owner_kind: str
    owner_id: str
    organization_id: str | None
    active: bool
    disabled_at: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None


class WebhookWithSecret(WebhookRead):
    secret: str = SecretField("`whsec_...`: shown once, keep it to verify signatures.")


class AttemptRead(ReadModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryRead(Stamped):
    endpoint_id: str
    event_id: int
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    failures: int = Field(
        description="Failed attempts counted against the retry schedule "
        "(an unreachable endpoint is probed without them)."
    )
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    payload: dict[str, Any]
    attempt_log: list[AttemptRead] = []


class Change(ReadModel):
    id: str
    type: str
    resource_type: str
    resource_id: str
    occurred_at: datetime
    data: dict[str, Any]


class ChangesPage(ReadModel):
    items: list[Change]
    next_cursor: str = Field(
        description="Send as `since` to continue; store it to resume later (it is never null)."
    )
    has_more: bool
