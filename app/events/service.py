"""Writing outbox events, and the domains that react to them in the same transaction.

A domain that must react to another's change before it commits (cancelling a case
withdraws its pending offers) registers a listener here instead of being imported by the
domain that changes: `@listen("case.cancelled")` in `app/<domain>/listeners.py`, which
`load_listeners()` imports at start-up. Readers after the commit (live hub, webhooks,
changes feed) read the outbox instead.
"""

from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy import CursorResult, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.rawdb import DriverDb, Sql
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


_TABLE = OutboxEvent.__table__  # type: ignore[attr-defined]
_EMIT = Sql(
    "INSERT INTO outbox_event "
    "(type, resource_type, resource_id, organization_id, audience, payload, created_at) "
    "VALUES (:type, :resource_type, :resource_id, :organization_id, :audience, :payload, "
    ":created_at) RETURNING id"
)


async def emit(
    session: AsyncSession | DriverDb,
    type: str,
    resource_type: str,
    resource_id: str,
    *,
    organization_id: str | None = None,
    audience: list[str] | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxEvent | None:
    """Record an event in the caller's transaction: it is announced only if the change commits.

    One Core INSERT now rather than an ORM object flushed later: the unit of work cost more
    than the row on every write path. The relay still hears of the event after the commit
    (and forgets it if its transaction or savepoint rolls back). A lean route's driver
    transaction (app.core.rawdb) hands it over the same way after its COMMIT; there the
    row may not be written yet when this returns, so there is no event to return."""
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
    if isinstance(session, DriverDb):
        if type in _listeners:
            raise RuntimeError(f"{type} has listeners: emit it from an ORM session")
        made: list[OutboxEvent] = []
        await session.write(
            _EMIT,
            {
                **values,
                "audience": session.json(values["audience"]),
                "payload": session.json(values["payload"]),
                "created_at": session.ts(values["created_at"]),
            },
            # The id is known once the row is written (on PostgreSQL, with the route's
            # other writes); the relay hears of the event after the COMMIT.
            returned=lambda new_id: made.append(OutboxEvent.model_construct(id=new_id, **values)),
        )
        session.after_commit(lambda: relay.committed(made))
        return None
    result = cast(CursorResult[Any], await session.execute(insert(_TABLE).values(**values)))
    pk = result.inserted_primary_key
    assert pk is not None  # a single-row INSERT always has one
    ev = OutboxEvent.model_construct(id=pk[0], **values)
    relay.remember(session.sync_session, ev)
    for listener in _listeners.get(type, ()):
        await listener(session, ev)
    return ev
