"""Writing outbox events, and the domains that react to them in the same transaction.

A domain that must react to another's change before it commits (cancelling a case
withdraws its pending offers) registers a listener here instead of being imported by the
domain that changes: `@listen("case.cancelled")` in `app/<domain>/listeners.py`, which
`load_listeners()` imports at start-up. Readers after the commit (live hub, webhooks,
changes feed) read the outbox instead.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.queries import Statement, queries
from app.core.registry import domain_modules
from app.events import relay
from app.events.models import OutboxEvent

Listener = Callable[[AsyncSession, OutboxEvent], Awaitable[None]]
_listeners: dict[str, list[Listener]] = {}


def listen(type: str) -> Callable[[Listener], Listener]:
    """Run the decorated `fn(session, event)` inside every transaction that emits `type`."""

    def register(fn: Listener) -> Listener:
        _listeners.setdefault(type, []).append(fn)
        return fn

    return register


def load_listeners() -> None:
    """Import every domain's `listeners.py` (once per process; importing registers them)."""
    domain_modules("listeners")


_EMIT = Statement(
    "INSERT INTO outbox_event "
    "(type, resource_type, resource_id, organization_id, audience, payload, created_at) "
    "VALUES (:type, :resource_type, :resource_id, :organization_id, :audience, :payload, "
    ":created_at) RETURNING id"
)


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
    """Record an event in the caller's transaction: it is announced only if the change
    commits (the relay hears of it after the commit, and forgets it if its transaction or
    savepoint rolls back). One statement on the fast lane (app.core.queries)."""
    values: dict[str, Any] = {
        "type": type,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "organization_id": organization_id,
        "audience": audience or [],
        "payload": payload or {},
        "created_at": utcnow(),
        "published_at": None,
    }
    db = await queries(session)
    row = await db.fetchrow(
        _EMIT,
        {
            **values,
            "audience": db.json(values["audience"]),
            "payload": db.json(values["payload"]),
            "created_at": db.ts(values["created_at"]),
        },
    )
    assert row is not None  # INSERT ... RETURNING one row
    ev = OutboxEvent.model_construct(id=row[0], **values)
    relay.remember(session.sync_session, ev)
    for listener in _listeners.get(type, ()):
        await listener(session, ev)
    return ev
