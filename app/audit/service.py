"""Appending to and verifying the hash-chained audit log."""

import asyncio
import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit.models import AuditEntry
from app.core.db import get_engine, is_postgres, sessionmaker, utcnow
from app.core.principal import Principal

GENESIS = "0" * 64
_AUDIT_LOCK = 0x4155444954  # "AUDIT": serialises appends so the chain never forks


def _digest(prev: str, e: AuditEntry) -> str:
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
    return hashlib.sha256(body.encode()).hexdigest()


async def append(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    resource_type: str,
    resource_id: str | None,
    *,
    outcome: str = "allowed",
    detail: str | None = None,
    ip: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Write one entry in the caller's transaction; call it last so the lock is held briefly."""
    if is_postgres(session):
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK})
    prev = await session.scalar(
        select(col(AuditEntry.hash)).order_by(col(AuditEntry.id).desc()).limit(1)
    )
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=actor.id if actor else None,
        actor_kind=actor.kind if actor else "anonymous",
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        outcome=outcome,
        ip=ip or (actor.ip if actor else None),
        detail=detail[:2000] if detail else None,
        prev_hash=prev or GENESIS,
        hash="",
    )
    # Stored times lose sub-microsecond precision nowhere, but SQLite drops the zone: hash UTC.
    entry.hash = _digest(entry.prev_hash, entry)
    session.add(entry)
    await session.flush()
    return entry


async def append_denied(
    actor: Principal | None,
    action: str,
    resource_type: str,
    resource_id: str | None,
    detail: str | None = None,
) -> None:
    """A denied attempt is kept even though the request itself rolls back."""

    async def write() -> None:
        async with sessionmaker()() as s:
            await append(
                s, actor, action, resource_type, resource_id, outcome="denied", detail=detail
            )
            await s.commit()

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


async def verify(session: AsyncSession, batch: int = 5000) -> dict[str, Any]:
    """Walk the chain; report the first entry whose link or content does not hold."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(col(AuditEntry.id) > last_id)
                    .order_by(col(AuditEntry.id))
                    .limit(batch)  # type: ignore[arg-type]
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return {"valid": True, "checked": checked, "first_broken_id": None}
        for e in rows:
            if e.prev_hash != prev or _digest(e.prev_hash, e) != e.hash:
                return {"valid": False, "checked": checked, "first_broken_id": e.id}
            prev = e.hash
            checked += 1
            last_id = e.id or last_id
