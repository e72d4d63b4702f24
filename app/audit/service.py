"""Appending to, sealing and verifying the hash-chained audit log.

Appending and chaining are separate steps so that audited requests never queue behind one
another. `append` inserts the entry *unsealed* (no `prev_hash`, no `hash`) in the caller's
transaction: one INSERT, no lock, no read of the previous entry. `seal` later chains the
committed entries in id order: each gets the previous entry's hash and its own. It runs as
a worker job (app/audit/jobs.py) and before the log is listed or verified, so what an admin
sees and what `verify` checks is always the whole chain.

Sealing in id order is only sound once no entry with a lower id can still appear. SQLite
serialises writers, so every committed id is final. On PostgreSQL ids come from a sequence
when the row is inserted and a transaction holding a lower id may commit after a higher
one, so `seal` first finds a watermark the way app/partners/feed.py does for the outbox:
it reads the sequence, then waits until the transactions that held the insert lock on
audit_entry at that moment have ended; every id up to the value read is then final
(committed or rolled back for good). One sealer at a time (an advisory lock).

Tampering stays visible: sealed entries form a prefix of the log; an edited, deleted or
inserted entry breaks a link or a hash, and an entry that loses its seal while a later one
keeps its own is reported as broken too.
"""

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit.models import AuditCheckpoint, AuditEntry
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import get_engine, is_postgres, take_turns, unit_of_work
from app.core.principal import Principal
from app.core.queries import Queries, Statement, queries


class ServiceActor:
    """The service itself, acting on its own schedule (an offer lapsing, a case escalated
    or overdue): its entries say so, apart from a caller who was not signed in."""


SERVICE: Final = ServiceActor()
Actor = Principal | ServiceActor | None

log = logging.getLogger("app.audit")

GENESIS = "0" * 64
_SEAL_LOCK = 0x4155444954  # "AUDIT": one sealer at a time, so the chain never forks
_TABLE = AuditEntry.metadata.tables[AuditEntry.__tablename__]  # typed, unlike __table__
_SEAL = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(prev_hash=bindparam("p"), hash=bindparam("h"))
)


def audit_key() -> bytes:
    """The chain's key: AUDIT_KEY, or one derived from SECRET_KEY; never in the database."""
    s = get_settings()
    if s.audit_key:
        return s.audit_key.encode()
    return hmac.new(s.secret_key.encode(), b"audit-chain", hashlib.sha256).digest()


def _digest(prev: str, e: Any) -> str:
    """An entry's seal: keyed, so it cannot be recomputed from the database alone."""
    return hmac.new(audit_key(), _content(prev, e), hashlib.sha256).hexdigest()


def _unkeyed_digest(prev: str, e: Any) -> str:
    """The seal before the chain was keyed (read once, to adopt an existing chain)."""
    return hashlib.sha256(_content(prev, e)).hexdigest()


def _content(prev: str, e: Any) -> bytes:
    body = json.dumps(
        [
            prev,
            e.at.isoformat(),
            e.actor_id,
            e.actor_kind,
            e.action,
            e.resource_type,
            e.resource_id,
            e.outcome,
            e.ip,
            e.detail,
        ],
        separators=(",", ":"),
    )
    return body.encode()


_APPEND = Statement(
    "INSERT INTO audit_entry "
    "(at, actor_id, actor_kind, action, resource_type, resource_id, outcome, ip, detail) "
    "VALUES (:at, :actor_id, :actor_kind, :action, :resource_type, :resource_id, :outcome, "
    ":ip, :detail)"
)


async def append(
    session: AsyncSession,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str | None,
    *,
    outcome: str = "allowed",
    detail: str | None = None,
    ip: str | None = None,
    at: datetime | None = None,
) -> None:
    """Write one entry in the caller's transaction (one INSERT; `seal` chains it later)."""
    values = _values(actor, action, resource_type, resource_id, outcome, ip, at or utcnow())
    values["detail"] = detail[:2000] if detail else None
    db = await queries(session)
    await db.execute(_APPEND, {**values, "at": db.ts(values["at"])})


def _values(
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str | None,
    outcome: str,
    ip: str | None,
    at: datetime,
) -> dict[str, Any]:
    if isinstance(actor, ServiceActor):
        actor_id, kind = None, "service"
    else:
        actor_id, kind = (actor.id, str(actor.kind)) if actor else (None, "anonymous")
    return {
        "at": at,
        "actor_id": actor_id,
        "actor_kind": kind,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "outcome": outcome,
        "ip": ip or (actor.ip if isinstance(actor, Principal) else None),
    }


def listed_sql(source: str, order: str) -> str:
    """`append`'s INSERT as one part of a PostgreSQL WITH statement that lists rows: the
    entry's detail is the ids the statement lists (`source`, a query with an `id` column,
    joined in `order`), written in the same round trip and only when it listed any. Its
    values are the named parameters `listed_params` gives."""
    return (
        "INSERT INTO audit_entry "
        "(at, actor_id, actor_kind, action, resource_type, resource_id, outcome, ip, detail) "
        "SELECT :au_at, :au_actor_id, :au_actor_kind, :au_action, :au_resource_type, NULL, "
        f"'allowed', :au_ip, left(string_agg(l.id, ',' ORDER BY {order}), 2000) "
        f"FROM ({source}) AS l HAVING count(*) > 0"
    )


def listed_params(db: Queries, actor: Principal, action: str, resource_type: str) -> dict[str, Any]:
    values = _values(actor, action, resource_type, None, "allowed", None, utcnow())
    values["at"] = db.ts(values["at"])
    return {f"au_{k}": v for k, v in values.items() if k not in ("resource_id", "outcome")}


async def append_denied(
    actor: Principal | None,
    action: str,
    resource_type: str,
    resource_id: str | None,
    detail: str | None = None,
) -> None:
    """A denied attempt is kept even though the request itself rolls back."""

    async def write() -> None:
        async with unit_of_work() as s:
            await append(
                s, actor, action, resource_type, resource_id, outcome="denied", detail=detail
            )

    if get_engine().dialect.name == "sqlite":
        # The request's own transaction holds SQLite's one write lock (and its one pooled
        # connection) until it rolls back: write once it has, not while waiting for it.
        task = asyncio.get_running_loop().create_task(write())
        _pending_denied.add(task)
        task.add_done_callback(_pending_denied.discard)
        return
    await write()


_pending_denied: set["asyncio.Task[None]"] = set()


async def drain_denied() -> None:
    """Wait for deferred denied-access entries (SQLite) to be written; for tests and shutdown."""
    while _pending_denied:
        await asyncio.gather(*list(_pending_denied), return_exceptions=True)


# ---------------------------------------------------------------- sealing


async def _insert_lock_holders(s: AsyncSession) -> set[str]:
    """Transactions (other than ours) that hold the insert lock on audit_entry."""
    rows = await s.scalars(
        text(
            "SELECT DISTINCT virtualtransaction FROM pg_locks WHERE locktype = 'relation' "
            "AND relation = 'audit_entry'::regclass AND mode = 'RowExclusiveLock' "
            "AND pid <> pg_backend_pid()"
        )
    )
    return {str(x) for x in rows.all()}


async def _pg_watermark(s: AsyncSession, patience_s: float) -> int | None:
    """The highest id below which no entry can still appear, or None if writers that may
    hold a lower id did not finish within `patience_s` (the next pass will get them)."""
    seq = (await s.execute(text("SELECT last_value, is_called FROM audit_entry_id_seq"))).one()
    last = int(seq[0]) if seq[1] else 0
    # Whoever drew an id up to `last` took the table's insert lock before drawing it and
    # keeps it to its end: it has ended, or it is among these.
    holders = await _insert_lock_holders(s)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    while holders:
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(0.005)
        holders &= await _insert_lock_holders(s)
    return last


async def _seal_in(s: AsyncSession, batch: int, patience_s: float) -> int:
    limit: int | None = None
    if is_postgres(s):
        await take_turns(s, _SEAL_LOCK)
        limit = await _pg_watermark(s, patience_s)
        if limit is None:
            log.warning("audit sealing postponed: writers still in flight")
            return 0
    last = await _newest_sealed(s)
    if last is not None and _digest(last.prev_hash, last) != last.hash:
        if await _adopt_unkeyed_chain(s, batch):
            last = await _newest_sealed(s)
    last_id, prev = (last.id, last.hash) if last else (0, GENESIS)
    sealed = 0
    while True:
        stmt = select(_TABLE).where(_TABLE.c.id > last_id).order_by(_TABLE.c.id).limit(batch)
        if limit is not None:
            stmt = stmt.where(_TABLE.c.id <= limit)
        rows = (await s.execute(stmt)).all()
        if not rows:
            return sealed
        params = []
        for r in rows:
            h = _digest(prev, r)
            params.append({"row_id": r.id, "p": prev, "h": h})
            prev = h
        await s.execute(_SEAL, params)
        sealed += len(rows)
        last_id = rows[-1].id
        if len(rows) < batch:
            return sealed


async def _adopt_unkeyed_chain(s: AsyncSession, batch: int) -> bool:
    """Once, when the chain was sealed before it was keyed: if no checkpoint was ever made
    and the whole chain holds under the unkeyed rule, seal it again with the key. Anything
    else (a checkpoint exists, a link does not hold) is left for `verify` to report."""
    if await s.scalar(select(col(AuditCheckpoint.id)).limit(1)) is not None:
        return False
    old_prev, new_prev, last_id = GENESIS, GENESIS, 0
    keyed: list[dict[str, Any]] = []
    while rows := (
        await s.execute(
            select(_TABLE)
            .where(_TABLE.c.id > last_id, _TABLE.c.hash.is_not(None))
            .order_by(_TABLE.c.id)
            .limit(batch)
        )
    ).all():
        for r in rows:
            if r.prev_hash != old_prev or _unkeyed_digest(old_prev, r) != r.hash:
                return False
            old_prev, new_prev = r.hash, _digest(new_prev, r)
            keyed.append({"row_id": r.id, "p": keyed[-1]["h"] if keyed else GENESIS, "h": new_prev})
        last_id = rows[-1].id
    # Two steps: a new seal could equal an old one not yet replaced (hash is unique).
    await s.execute(_SEAL, [{"row_id": k["row_id"], "p": None, "h": None} for k in keyed])
    await s.execute(_SEAL, keyed)
    if keyed:  # a checkpoint at once: from now on an unkeyed chain is never adopted again
        head = keyed[-1]
        s.add(
            AuditCheckpoint(
                entry_id=head["row_id"],
                hash=head["h"],
                signature=sign_checkpoint(head["row_id"], head["h"]),
            )
        )
    log.warning("audit chain of %d entries sealed again with the audit key", len(keyed))
    return True


def sign_checkpoint(entry_id: int, head: str) -> str:
    """The signature of a checkpoint naming entry `entry_id` with seal `head`."""
    message = f"audit-checkpoint:{entry_id}:{head}".encode()
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


async def _newest_sealed(s: AsyncSession) -> Any:
    return (
        await s.execute(
            select(_TABLE).where(_TABLE.c.hash.is_not(None)).order_by(_TABLE.c.id.desc()).limit(1)
        )
    ).first()


async def seal(
    session: AsyncSession | None = None, *, batch: int = 2000, patience_s: float = 2.0
) -> int:
    """Chain every final unsealed entry; returns how many were sealed.

    With `session`, in the caller's transaction (its commit makes the seal durable; on
    SQLite a request's session already holds the one write lock, so a second session would
    wait for it); without, in a transaction of its own."""
    if session is not None:
        return await _seal_in(session, batch, patience_s)
    async with unit_of_work() as s:
        n = await _seal_in(s, batch, patience_s)
        return n


async def verify(
    session: AsyncSession, batch: int = 5000, *, against: list[tuple[int, str]] | None = None
) -> dict[str, Any]:
    """Seal what is final, then walk the chain; report the first entry whose link or
    content does not hold, or that differs from a checkpoint (`against`: (entry id, hash)
    pairs whose signatures were checked; app/audit/checkpoints.py). A checkpoint's entry
    that is gone, with the entries after it, is a truncation."""
    await seal(session)
    pinned = dict(against or [])
    seen: set[int] = set()
    prev = GENESIS
    checked = 0
    last_id = 0
    unsealed_from: int | None = None

    def broken(entry_id: int | None, reason: str) -> dict[str, Any]:
        return {"valid": False, "checked": checked, "first_broken_id": entry_id, "reason": reason}

    while True:
        rows = (
            await session.execute(
                select(_TABLE).where(_TABLE.c.id > last_id).order_by(_TABLE.c.id).limit(batch)
            )
        ).all()
        if not rows:
            missing = sorted(i for i in pinned if i not in seen)
            if missing:
                return broken(missing[0], "truncated")
            return {"valid": True, "checked": checked, "first_broken_id": None, "reason": None}
        for e in rows:
            last_id = e.id
            if e.hash is None:
                # Not sealed yet (still in flight on PostgreSQL): fine only at the tail.
                unsealed_from = unsealed_from or e.id
                continue
            if unsealed_from is not None:
                return broken(unsealed_from, "unsealed")
            if e.prev_hash != prev or _digest(e.prev_hash, e) != e.hash:
                return broken(e.id, "altered")
            if e.id in pinned:
                if pinned[e.id] != e.hash:
                    return broken(e.id, "differs-from-checkpoint")
                seen.add(e.id)
            prev = e.hash
            checked += 1
