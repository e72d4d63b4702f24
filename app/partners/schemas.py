"""Request and response shapes for webhooks and the changes feed."""

from datetime import datetime
from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BeforeValidator, Field, ValidationInfo, computed_field, field_validator

from app.core.schemas import ReadModel, RequestBody, SecretField, Stamped, example
from app.events.kinds import EventKind
from app.partners.feed import event_ref
from app.partners.models import KEPT_ATTEMPTS
from app.partners.outcomes import ATTEMPT_OUTCOME, LAST_OUTCOME, Outcome, classify

# Every kind the service emits can be subscribed to; the list lives in app/events/kinds.py.
EventName = EventKind


_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
WEBHOOK_URL_PATTERN = rf"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:{_PORT})?(/[!-~]*)?$"


class WebhookCreate(RequestBody):
    model_config = example(
        {
            "url": "https://emr.example.org/hooks/consult",
            "events": ["case.assigned", "note.signed", "case.closed"],
        }
    )

    url: str = Field(
        max_length=2000,
        # Stated for clients; check_url enforces it with its own clear errors.
        json_schema_extra={"pattern": WEBHOOK_URL_PATTERN},
        description=(
            "An absolute https URL resolving to a public address (`http` and private"
            " addresses only where WEBHOOK_ALLOW_PRIVATE=1)."
        ),
        examples=["https://emr.example.org/hooks/consult"],
    )
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
    kept_outcome: str | None = Field(default=None, exclude=True, validation_alias="outcome")

    @computed_field(description=ATTEMPT_OUTCOME)  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> Outcome | None:
        # Kept when it was met; read from the record's text on rows from before.
        return _kept(self.kept_outcome) or classify(self.status_code, self.error)


# The event's id as partners meet it everywhere else (the payload's `data.event_id`, the
# `/changes` item's `id`): "evt_42", not the row's 42, so a delivery is matched to both.
EventRef = Annotated[
    str,
    BeforeValidator(lambda v: event_ref(v) if isinstance(v, int) else v),
    Field(
        description="The event delivered, as `/changes` and the payload name it.",
        examples=["evt_1042"],
    ),
]


class DeliveryRead(Stamped):
    endpoint_id: str
    event_id: EventRef
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    failures: int = Field(
        description="Failed attempts counted against the retry schedule "
        "(an unreachable endpoint is probed without them)."
    )
    next_attempt_at: datetime | None = Field(
        description="When it is sent next, while `pending` (now or past: at the next pass); "
        "null once delivered or failed, when nothing more is sent."
    )
    last_status_code: int | None
    last_error: str | None
    kept_last_outcome: str | None = Field(
        default=None, exclude=True, validation_alias="last_outcome"
    )
    delivered_at: datetime | None
    payload: dict[str, Any]
    attempt_log: list[AttemptRead] = Field(
        default=[],
        description=f"The latest {KEPT_ATTEMPTS} attempts, oldest first "
        "(`attempts` counts every one).",
    )

    @field_validator("next_attempt_at")
    @classmethod
    def _next_only_while_pending(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        # The row keeps its last schedule; read as a plan, it would say one more is coming.
        return v if info.data.get("status") == "pending" else None

    @computed_field(description=LAST_OUTCOME)  # type: ignore[prop-decorator]
    @property
    def last_outcome(self) -> Outcome | None:
        return _kept(self.kept_last_outcome) or classify(self.last_status_code, self.last_error)


def _kept(code: str | None) -> Outcome | None:
    return cast(Outcome, code) if code in _OUTCOMES else None


_OUTCOMES = frozenset(get_args(Outcome))


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
