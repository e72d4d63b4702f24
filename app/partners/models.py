"""Webhook endpoints, their deliveries and attempts, and the dispatcher's own outbox cursor."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import Timestamped, json_field, new_id, ts_field


class WebhookEndpoint(Timestamped, table=True):
    """A partner's URL and the events it wants; owned by an API client or an admin."""

    __tablename__ = "webhook_endpoint"

    id: str = Field(default_factory=lambda: new_id("wh"), primary_key=True, max_length=40)
    owner_kind: str = Field(max_length=10)  # client | user
    owner_id: str = Field(max_length=40, index=True)
    # The facility whose events a client's endpoint may receive; None for an admin's.
    organization_id: str | None = Field(default=None, max_length=40)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=200)
    events: list[str] = json_field()
    # Kept in clear: the server must sign with it (like any Standard Webhooks sender).
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = ts_field(default=None)
    # Secrets replaced before the previous one and still in their grace ({"secret", "until"}):
    # a second rotation within a day (the first answer lost) must not stop the secret the
    # receiver still holds.
    older_secrets: list[dict[str, str]] = json_field(
        sa_column_kwargs={"server_default": text("'[]'")}
    )
    active: bool = True
    disabled_at: datetime | None = ts_field(default=None)
    disabled_reason: str | None = Field(default=None, max_length=200)
    # First failure of the current unbroken run of failures; cleared by a success.
    failing_since: datetime | None = ts_field(default=None)
    # A dispatcher holds the endpoint while it sends, so only one sends to it at a time.
    lease_until: datetime | None = ts_field(default=None)
    lease_owner: str | None = Field(default=None, max_length=40)


class DeliveryStatus:
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookDelivery(Timestamped, table=True):
    """One event for one endpoint; its id is the `webhook-id` every attempt carries."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_endpoint_event"),
        Index("ix_webhook_delivery_queue", "endpoint_id", "status", "event_id"),
    )

    id: str = Field(default_factory=lambda: new_id("whd"), primary_key=True, max_length=40)
    endpoint_id: str = Field(foreign_key="webhook_endpoint.id", max_length=40, ondelete="CASCADE")
    event_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_type: str = Field(max_length=60)
    payload: dict[str, Any] = json_field(default_factory=dict)
    status: str = Field(default=DeliveryStatus.pending, max_length=12)
    attempts: int = 0
    # Failures counted against the retry schedule: answers other than 2xx, and errors
    # after connecting. An endpoint that cannot be reached at all is probed instead.
    failures: int = 0
    next_attempt_at: datetime = ts_field(default_factory=utcnow)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    # What the last attempt met, as app.partners.outcomes names it, decided when it was met
    # (from the exception, not its text); null on rows from before it was kept.
    last_outcome: str | None = Field(default=None, max_length=20)
    delivered_at: datetime | None = ts_field(default=None)


# A delivery keeps its latest attempts (app.partners.dispatcher): probed every ten seconds
# for up to five days, an unreachable endpoint's first delivery would gather ~43,000, and
# the delivery log returns each delivery's attempts whole (`attempts` counts every one).
KEPT_ATTEMPTS = 20


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: one row per HTTP attempt."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(
        foreign_key="webhook_delivery.id", index=True, max_length=40, ondelete="CASCADE"
    )
    at: datetime = ts_field(default_factory=utcnow)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    outcome: str | None = Field(default=None, max_length=20)  # as last_outcome, above
    duration_ms: int = 0


class PartnerCursor(SQLModel, table=True):
    """Named positions in the outbox: the fan-out's progress and the commit watermark."""

    __tablename__ = "partner_cursor"

    name: str = Field(primary_key=True, max_length=40)
    position: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    # Watermark bookkeeping (PostgreSQL): an outbox id waiting for these transactions to end.
    pending_position: int | None = Field(default=None, sa_column=Column(BigInteger))
    pending_xids: list[str] = json_field()
    updated_at: datetime = ts_field(default_factory=utcnow)
