"""Writing outbox events. Readers (live hub, webhooks, changes feed) come later."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import OutboxEvent


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
    """Record an event in the caller's transaction: it is announced only if the change commits."""
    ev = OutboxEvent(
        type=type,
        resource_type=resource_type,
        resource_id=resource_id,
        organization_id=organization_id,
        audience=audience or [],
        payload=payload or {},
    )
    session.add(ev)
    return ev
