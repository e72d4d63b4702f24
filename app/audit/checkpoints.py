"""Signed checkpoints of the audit chain's head (issue 16).

The chain is keyed (app/audit/service.py), so an entry cannot be edited and sealed again by
hand. Two things remain that a writer to the database can do: clear the seals from an
entry on (the sealer then chains the edited entries again, with the key) and delete the
newest entries. Both change or remove the entry a checkpoint names. So the worker exports
the head at least hourly (AUDIT_CHECKPOINT_MINUTES): signed with the audit key, written
to the log and sent as an `audit.checkpoint` event to webhooks that subscribe to it, and
kept in `audit_checkpoint`. `GET /audit/verify` checks the chain against every stored
checkpoint and against one the caller brings from outside (`?checkpoint=`), which the
database cannot take back.
"""

import hmac
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit.models import AuditCheckpoint
from app.audit.service import _newest_sealed, seal, sign_checkpoint
from app.audit.service import verify as verify_chain
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import unit_of_work
from app.core.errors import Unprocessable
from app.events import service as events

log = logging.getLogger("app.audit")


class BadCheckpoint(ValueError):
    """Not a checkpoint this deployment signed."""


def token(entry_id: int, head: str, signature: str) -> str:
    """The checkpoint as one string, to keep and to bring back to `verify`."""
    return f"{entry_id}.{head}.{signature}"


def parse(text: str) -> tuple[int, str]:
    """(entry id, hash) of a checkpoint token whose signature holds, or BadCheckpoint."""
    try:
        entry, head, signature = text.strip().split(".")
        entry_id = int(entry)
    except ValueError as e:
        raise BadCheckpoint("not a checkpoint: expected <entry id>.<hash>.<signature>") from e
    if not 0 < entry_id < 2**63 or not hmac.compare_digest(
        signature, sign_checkpoint(entry_id, head)
    ):
        raise BadCheckpoint("the checkpoint's signature does not hold")
    return entry_id, head


async def stored(session: AsyncSession) -> list[tuple[int, str]]:
    """Every kept checkpoint, (entry id, hash); one whose signature fails (forged or
    altered in the database) is BadCheckpoint."""
    rows = (
        await session.execute(select(AuditCheckpoint).order_by(col(AuditCheckpoint.id)))
    ).scalars()
    out = []
    for cp in rows:
        if not hmac.compare_digest(cp.signature, sign_checkpoint(cp.entry_id, cp.hash)):
            raise BadCheckpoint(f"stored checkpoint {cp.id} does not hold its signature")
        out.append((cp.entry_id, cp.hash))
    return out


async def make(session: AsyncSession, *, every: timedelta | None = None) -> AuditCheckpoint | None:
    """Seal, then record the head as a checkpoint (unless one was made within `every`):
    kept, logged and emitted as `audit.checkpoint`, in the caller's transaction."""
    await seal(session)  # on PostgreSQL this holds the sealer's lock: one checkpointer
    if every is not None:
        latest = await session.scalar(
            select(col(AuditCheckpoint.at)).order_by(col(AuditCheckpoint.id).desc()).limit(1)
        )
        if latest is not None and latest > utcnow() - every:
            return None
    head = await _newest_sealed(session)
    if head is None:
        return None
    cp = AuditCheckpoint(
        entry_id=head.id, hash=head.hash, signature=sign_checkpoint(head.id, head.hash)
    )
    session.add(cp)
    await session.flush()
    signed = token(cp.entry_id, cp.hash, cp.signature)
    log.info("audit checkpoint %s at %s", signed, cp.at.isoformat())
    await events.emit(
        session,
        "audit.checkpoint",
        "audit",
        str(cp.entry_id),
        payload={
            "entry_id": cp.entry_id,
            "hash": cp.hash,
            "checkpoint": signed,
            "at": cp.at.isoformat(),
        },
    )
    return cp


async def checkpoint_job() -> None:
    """The worker's pass: a checkpoint when the last is AUDIT_CHECKPOINT_MINUTES old."""
    every = timedelta(minutes=get_settings().audit_checkpoint_minutes)
    async with unit_of_work() as s:
        await make(s, every=every)


async def verify(session: AsyncSession, given: str | None = None) -> dict[str, object]:
    """The chain checked against every kept checkpoint and `given` (a token from outside):
    422 when `given` is not one this deployment signed."""
    pins: list[tuple[int, str]] = []
    if given is not None:  # an empty one is not a checkpoint either
        try:
            pins.append(parse(given))
        except BadCheckpoint as e:
            raise Unprocessable(
                "Not a checkpoint of this audit log.",
                code="invalid-checkpoint",
                errors=[{"pointer": "#query/checkpoint", "detail": str(e)}],
            ) from e
    try:
        pins += await stored(session)
    except BadCheckpoint:  # a kept checkpoint was forged or altered: tampering in itself
        return {"valid": False, "checked": 0, "first_broken_id": None, "reason": "altered"}
    return await verify_chain(session, against=pins)
