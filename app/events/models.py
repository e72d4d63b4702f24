"""The outbox: events written in the same transaction as the change they announce."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast
from sqlmodel import Field, SQLModel, col

from app.core.clock import utcnow
from app.core.db import json_field, ts_field
from app.events.kinds import USER_DEACTIVATED

# A subject's tokens were revoked (one token, or all a user's on deactivation or a new
# password). No one else's business, so it reaches no feed or webhook; the live hub hears
# it and has that subject's open sockets check their token before their next frame.
SESSION_ENDED = "session.ended"
INTERNAL_EVENTS = frozenset({SESSION_ENDED, USER_DEACTIVATED})


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=60, index=True)
    resource_type: str = Field(max_length=40)
    resource_id: str = Field(max_length=40, index=True)
    # Who may hear of it: the facility it belongs to, and users it concerns directly.
    organization_id: str | None = Field(default=None, max_length=40, index=True)
    audience: list[str] = json_field()
    payload: dict[str, Any] = json_field(default_factory=dict)
    created_at: datetime = ts_field(default_factory=utcnow)
    # Set by the relay once the event was handed to pub/sub.
    published_at: datetime | None = ts_field(default=None, index=True)


def names(user_id: str) -> ColumnElement[bool]:
    """Events whose audience names `user_id` (a SQL superset: ids are unique strings)."""
    return cast(col(OutboxEvent.audience), String).contains(f'"{user_id}"')
