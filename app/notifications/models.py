"""Notifications, their deliveries (the outbox of email, push and SMS), preferences, push
subscriptions, account links, gathered messages and the escalation of a case's deadline."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import Timestamped, json_field, new_id, ts_field


class Notification(Timestamped, table=True):
    """One thing a user is told; the in-app list is these rows (always on)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_id_id", "user_id", "id"),)

    id: str = Field(default_factory=lambda: new_id("ntf"), primary_key=True, max_length=40)
    user_id: str = Field(foreign_key="user.id", max_length=40)
    kind: str = Field(max_length=30)
    subject: str = Field(max_length=300)
    link: str = Field(max_length=500)
    # The minimum necessary facts the channels may carry: specialty, urgency, country,
    # deadline, counts. Never a patient reference or clinical text.
    data: dict[str, Any] = json_field(default_factory=dict)
    # Which case it is about, for gathering and the record; never sent out.
    case_id: str | None = Field(default=None, max_length=40, index=True)
    # An emergency goes through quiet hours.
    urgent: bool = False
    # One notification per key: a job that runs again does not tell twice.
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    read_at: datetime | None = ts_field(default=None)


class DeliveryStatus(StrEnum):
    pending = "pending"
    sending = "sending"  # claimed by a sender until lease_until
    sent = "sent"
    failed = "failed"  # a permanent failure, or too many temporary ones
    skipped = "skipped"  # nowhere to send it (no subscription, no verified phone)


class Delivery(Timestamped, table=True):
    """One notification on one outside channel, or one account email. Written in the
    transaction of the change that causes it, sent by the worker."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        Index("ix_notification_delivery_due", "status", "next_attempt_at"),
        Index("ix_notification_delivery_lease", "status", "lease_until"),
    )

    id: str = Field(default_factory=lambda: new_id("dlv"), primary_key=True, max_length=40)
    notification_id: str | None = Field(
        default=None, foreign_key="notification.id", index=True, max_length=40
    )
    # None: an invitation to someone who is not a user yet.
    user_id: str | None = Field(default=None, foreign_key="user.id", index=True, max_length=40)
    channel: str = Field(max_length=10)
    template: str = Field(max_length=30)  # the notification's kind, or an AccountMail
    address: str | None = Field(default=None, max_length=254)  # email or E.164 phone
    context: dict[str, Any] = json_field(default_factory=dict)
    # The same on every attempt: a mail client shows a retried email once.
    message_id: str = Field(max_length=200)
    status: str = Field(default=DeliveryStatus.pending.value, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = ts_field(default_factory=utcnow)
    lease_until: datetime | None = ts_field(default=None)
    sent_at: datetime | None = ts_field(default=None)
    last_error: str | None = Field(default=None, max_length=500)


class NotificationSetting(Timestamped, table=True):
    """A user's preferences, verified phone and the next time their digest is due."""

    __tablename__ = "notification_setting"

    user_id: str = Field(foreign_key="user.id", primary_key=True, max_length=40)
    # kind -> channels; a kind not named here goes to its defaults (app.notifications.kinds).
    channels: dict[str, list[str]] = json_field(default_factory=dict)
    quiet_start: str | None = Field(default=None, max_length=5)  # "HH:MM", local
    quiet_end: str | None = Field(default=None, max_length=5)
    timezone: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=35)
    phone: str | None = Field(default=None, max_length=20)  # E.164
    phone_verified_at: datetime | None = ts_field(default=None)
    phone_code_hash: str | None = Field(default=None, max_length=64)
    phone_code_expires_at: datetime | None = ts_field(default=None)
    phone_code_attempts: int = 0
    digest_next_at: datetime | None = ts_field(default=None, index=True)


class PushSubscription(Timestamped, table=True):
    """A browser's or phone's Web Push subscription (its PushSubscription JSON)."""

    __tablename__ = "push_subscription"

    id: str = Field(default_factory=lambda: new_id("psh"), primary_key=True, max_length=40)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=40)
    endpoint: str = Field(max_length=2000)
    endpoint_hash: str = Field(max_length=64, unique=True)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class AccountTokenPurpose(StrEnum):
    invitation = "invitation"
    password_reset = "password_reset"


class AccountToken(SQLModel, table=True):
    """An invitation or a password-reset link: single use, expiring, stored hashed. The
    link's token is derived from SECRET_KEY and `salt`, so the sender can write it into
    the email without the database ever holding it (app.notifications.accounts)."""

    __tablename__ = "account_token"

    id: str = Field(default_factory=lambda: new_id("acct"), primary_key=True, max_length=40)
    purpose: str = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    salt: str = Field(max_length=64)
    email: str = Field(max_length=254, index=True)
    role: str | None = Field(default=None, max_length=20)
    organization_id: str | None = Field(default=None, max_length=40)
    user_id: str | None = Field(default=None, foreign_key="user.id", index=True, max_length=40)
    created_by_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = ts_field(default_factory=utcnow)
    expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field(default=None)


class MessageGather(SQLModel, table=True):
    """Messages in one case to one participant who was not there, gathered for one email.

    `open` is True while the window gathers and NULL once sent: the unique constraint
    allows one open window per person and case (NULLs never collide)."""

    __tablename__ = "message_gather"
    __table_args__ = (
        UniqueConstraint("user_id", "case_id", "open", name="uq_message_gather_open"),
        Index("ix_message_gather_open_due", "open", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(foreign_key="user.id", max_length=40)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=40)
    first_at: datetime = ts_field()
    due_at: datetime = ts_field()
    count: int = 0
    first_seq: int = 0
    last_seq: int = 0
    open: bool | None = True


class CaseEscalation(SQLModel, table=True):
    """Where a case stands on the way to its deadline: widened at half the window,
    coordinators told at four fifths, overdue at respond_by. Each step once."""

    __tablename__ = "case_escalation"

    case_id: str = Field(foreign_key="case.id", primary_key=True, max_length=40)
    widen_at: datetime = ts_field()
    tell_at: datetime = ts_field()
    deadline: datetime = ts_field()
    # The next step's time; None once the case is done with (overdue, answered, ended).
    next_at: datetime | None = ts_field(default=None, index=True)
    widened_at: datetime | None = ts_field(default=None)
    widened_offers: int = 0
    coordinators_told_at: datetime | None = ts_field(default=None)
    overdue_at: datetime | None = ts_field(default=None)
