"""Reading the outbox safely: the commit watermark, who may see an event, thin payloads,
and the changes feed.

Why a watermark: on PostgreSQL outbox ids come from a sequence when the row is inserted, so
a transaction holding id 7 may commit after one holding id 8. A reader that served 8 and then
moved its cursor past it would never see 7. So readers only go up to the *watermark*: an id
below which every transaction that could still add a row has ended. An INSERT takes its
ROW EXCLUSIVE lock on outbox_event before it draws an id and keeps it to the end of its
transaction; so after reading the sequence's last value, the transactions holding that lock
(pg_locks) are the only ones that may still commit an id up to it. Once they have all ended,
every id up to that value is final (committed, or rolled back for good). On SQLite writers
are serialised (BEGIN IMMEDIATE), so id order is commit order and the watermark is max(id).
"""

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.clock import utcnow
from app.core.db import is_postgres, turn_is_free, unit_of_work
from app.core.principal import InsufficientScope, Principal, Role, Scope
from app.events.models import INTERNAL_EVENTS, OutboxEvent, names
from app.partners.models import PartnerCursor

WATERMARK = "watermark"
FANOUT = "fanout"
_WATERMARK_LOCK = 0x5741544D  # "WATM": one advancer at a time; the others just read

# Payload keys a partner may receive: ids, states and times, never clinical text.
THIN_KEYS = (
    "case_id",
    "status",
    "previous_status",
    "status_reason",  # a code (lifecycle.ONLY_BECAUSE): why a case went back to unmatched
    "seq",
    "message_id",
    "note_id",
    "kind",
    "follow_up_id",
    "followup_id",
    "due_at",
    "round_id",
    "series_id",
    "occurrence_start",
    "start",
    "urgency",
    "specialty",
    "offer_id",
    "version",
    "change",
    "checkpoint",  # audit.checkpoint: the signed head of the audit chain
)


async def cursor_row(session: AsyncSession, name: str, lock: bool = False) -> PartnerCursor:
    stmt = select(PartnerCursor).where(col(PartnerCursor.name) == name)
    if lock and is_postgres(session):
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        # Two first callers may race to create it: whoever loses simply reads the winner's.
        dialect = pg_insert if is_postgres(session) else sqlite_insert
        await session.execute(
            dialect(PartnerCursor)
            .values(name=name, position=0, pending_xids=[], updated_at=utcnow())
            .on_conflict_do_nothing()
        )
        row = (await session.execute(stmt)).scalar_one()
    return row


async def _holders(s: AsyncSession) -> list[str]:
    """Transactions (other than ours) that hold the insert lock on the outbox."""
    return [
        str(x)
        for x in (
            await s.scalars(
                text(
                    "SELECT DISTINCT virtualtransaction FROM pg_locks WHERE locktype = 'relation' "
                    "AND relation = 'outbox_event'::regclass AND mode = 'RowExclusiveLock' "
                    "AND pid <> pg_backend_pid()"
                )
            )
        ).all()
    ]


async def watermark(patience: int = 10, reader: AsyncSession | None = None) -> int:
    """Advance (when nobody else is) and return the highest outbox id safe to read up to.

    On SQLite the reader's own session answers (its snapshot is what it will read)."""
    if reader is not None and not is_postgres(reader):
        return int(await reader.scalar(select(func.max(col(OutboxEvent.id)))) or 0)
    async with unit_of_work() as s:
        if not is_postgres(s):
            return int(await s.scalar(select(func.max(col(OutboxEvent.id)))) or 0)
        if not await turn_is_free(s, _WATERMARK_LOCK):
            row = await cursor_row(s, WATERMARK)
            return row.position
        # The sequence first, the lock holders second: whoever drew an id up to `last` took
        # the table lock before drawing it, so it has ended or is among `holders`.
        seq = (await s.execute(text("SELECT last_value, is_called FROM outbox_event_id_seq"))).one()
        last = int(seq[0]) if seq[1] else 0
        holders = await _holders(s)
        # Writers' transactions are short: waiting a moment for them keeps the feed fresh.
        for _ in range(patience):
            if not holders:
                break
            await asyncio.sleep(0.01)
            holders = [h for h in await _holders(s) if h in holders]
        row = await cursor_row(s, WATERMARK, lock=True)
        safe = row.position
        pending, waiting = row.pending_position, set(row.pending_xids or [])
        if pending is not None:
            waiting &= set(holders)
            if not waiting:
                safe, pending = max(safe, pending), None
        if not holders:
            safe, pending, waiting = max(safe, last), None, set()
        elif pending is None and last > safe:
            pending, waiting = last, set(holders)
        if (safe, pending, sorted(waiting)) != (
            row.position,
            row.pending_position,
            sorted(row.pending_xids or []),
        ):
            row.position, row.pending_position = safe, pending
            row.pending_xids = sorted(waiting)
            row.updated_at = utcnow()
        return safe


def scope_of(event_type: str, resource_type: str | None = None) -> Scope:
    """The read scope an API client needs to be sent an event of this kind."""
    if resource_type == "round" or event_type.startswith("round."):
        return Scope.rounds_read
    return Scope.cases_read


def _needed_scope(ev: OutboxEvent) -> Scope:
    return scope_of(ev.type, ev.resource_type)


FEED_SCOPES = (Scope.cases_read, Scope.rounds_read)


def reach(p: Principal) -> dict[str, Any]:
    """What the caller's feed is read under, kept in its cursor: an API client's read
    scopes; a person's role and facility (a coordinator sees every change, a clinician her
    facility's). A client holding no read scope would be served nothing, page after page,
    and a cursor at the feed's head that a token with one would then start from: 403."""
    if not p.is_client:
        return {"r": p.role.value, "o": p.organization_id}
    held = [s.value for s in FEED_SCOPES if p.has_scope(s)]
    if not held:
        raise InsufficientScope(Scope.cases_read)
    return {"s": held}


def reach_lost(now: dict[str, Any], then: dict[str, Any]) -> str | None:
    """Why a cursor read under `then` would skip, for good, changes the caller now may see
    (None: it would not). A cursor from before reach was kept in it carries none of it."""
    if isinstance(then.get("s"), list) and "s" in now:
        if wider := sorted(set(now["s"]) - set(then["s"])):
            return f"This cursor was read without {', '.join(wider)}, which this token has"
    if "r" in then and "r" in now and (then["r"], then.get("o")) != (now["r"], now["o"]):
        return "This cursor was read when your role or facility was another"
    return None


def may_see(p: Principal, ev: OutboxEvent) -> bool:
    """The same reach as the API: staff all, a facility its own, anyone what names them."""
    if ev.type in INTERNAL_EVENTS:
        return False
    if p.is_staff:
        return True
    if p.is_client:
        return ev.organization_id == p.organization_id and p.has_scope(_needed_scope(ev))
    if p.role is Role.clinician and p.organization_id and ev.organization_id == p.organization_id:
        return True
    return p.id in (ev.audience or [])


def prefilter(p: Principal) -> ColumnElement[bool] | None:
    """A SQL superset of may_see, so a page scan skips most of what is not the caller's."""
    if p.is_staff:
        return None
    if p.is_client:
        return col(OutboxEvent.organization_id) == p.organization_id
    named = names(p.id)
    if p.role is Role.clinician and p.organization_id:
        return or_(col(OutboxEvent.organization_id) == p.organization_id, named)
    return named


def event_ref(event_id: int) -> str:
    return f"evt_{event_id}"


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def thin_data(ev: OutboxEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "event_id": event_ref(int(ev.id or 0)),
        "resource_type": ev.resource_type,
        "resource_id": ev.resource_id,
    }
    if ev.organization_id:
        data["organization_id"] = ev.organization_id
    for k in THIN_KEYS:
        v = (ev.payload or {}).get(k)
        if v is not None and isinstance(v, str | int | float | bool):
            data[k] = v
    if ev.resource_type == "message":  # its payload is the message itself (`id`, no `message_id`)
        data["message_id"] = ev.resource_id
    return data


def webhook_payload(ev: OutboxEvent) -> dict[str, Any]:
    """The Standard Webhooks body: type, timestamp, and thin data."""
    return {"type": ev.type, "timestamp": _iso(ev.created_at), "data": thin_data(ev)}


def change_item(ev: OutboxEvent) -> dict[str, Any]:
    return {
        "id": event_ref(int(ev.id or 0)),
        "type": ev.type,
        "resource_type": ev.resource_type,
        "resource_id": ev.resource_id,
        "occurred_at": ev.created_at,
        "data": thin_data(ev),
    }


async def changes(
    session: AsyncSession, p: Principal, after: int, limit: int, scan_budget: int = 5000
) -> tuple[list[dict[str, Any]], int, bool]:
    """Changes the caller may see with ids in (after, watermark], oldest first.

    Returns (items, resume position, more): the position is the last id *scanned*, so the
    next page starts after what this one skipped as invisible and never re-reads it."""
    safe = await watermark(reader=session)
    where = prefilter(p)
    items: list[dict[str, Any]] = []
    position, scanned = after, 0
    while len(items) < limit and scanned < scan_budget and position < safe:
        stmt = select(OutboxEvent).where(
            col(OutboxEvent.id) > position, col(OutboxEvent.id) <= safe
        )
        if where is not None:
            stmt = stmt.where(where)
        batch = (
            await session.scalars(
                stmt.order_by(col(OutboxEvent.id)).limit(min(500, scan_budget - scanned))
            )
        ).all()
        if not batch:
            position = safe
            break
        for ev in batch:
            scanned += 1
            position = int(ev.id or 0)
            if may_see(p, ev):
                items.append(change_item(ev))
                if len(items) == limit:
                    break
    more = (
        position < safe
        and (
            await session.scalar(
                select(func.count()).select_from(
                    select(col(OutboxEvent.id))
                    .where(
                        col(OutboxEvent.id) > position,
                        col(OutboxEvent.id) <= safe,
                        *([where] if where is not None else []),
                    )
                    .limit(1)
                    .subquery()
                )
            )
            or 0
        )
        > 0
    )
    if not more and position < safe:
        position = safe
    return items, position, more
