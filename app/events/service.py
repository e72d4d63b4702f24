"""Writing outbox events. Readers (live hub, webhooks, changes feed) come later."""

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.events import relay
from app.events.models import OutboxEvent

_TABLE = OutboxEvent.__table__  # type: ignore[attr-defined]


async def emit(
    session: AsyncSession,
    type: str,
    resource_type: str,
    resource_id: str,
    *,
    organization_id: str | None = None,
    audience: list[str] | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Record an event in the caller's transaction: it is announced only if the change commits.

    One Core INSERT now rather than an ORM object flushed later: the unit of work cost more
    than the row on every write path. The relay still hears of the event after the commit
    (and forgets it if its transaction or savepoint rolls back)."""
    values = {
        "type": type,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "organization_id": organization_id,
        "audience": audience or [],
        "payload": payload or {},
        "created_at": utcnow(),
        "published_at": None,
    }
    result = await session.execute(insert(_TABLE).values(**values))
    ev = OutboxEvent.model_construct(id=result.inserted_primary_key[0], **values)
    relay.remember(session.sync_session, ev)
    return ev
