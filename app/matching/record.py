"""What matching adds to a case's record: each time the case was taken back from its
specialist before she answered (she was deactivated), who she was and why, from the
`case.unmatched` event written with it. (The `unmatched` step itself and her accepted
offer are the case's own entries, app/records/sources.py.)"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Case
from app.events.models import OutboxEvent


async def record_entries(session: AsyncSession, case: Case) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(col(OutboxEvent.created_at), col(OutboxEvent.payload))
            .where(
                col(OutboxEvent.resource_id) == case.id,
                col(OutboxEvent.resource_type) == "case",
                col(OutboxEvent.type) == "case.unmatched",
            )
            .order_by(col(OutboxEvent.id))
        )
    ).all()
    return [
        {
            "at": at,
            "type": "unassigned",
            "id": case.id,
            "specialist_id": payload.get("specialist_id"),
            # `reason` in events written before 2026-12-07.
            "reason": payload.get("status_reason") or payload["reason"],
            "actor_id": payload.get("actor_id"),
        }
        for at, payload in rows
        if payload
        and payload.get("previous_status") == "assigned"
        and (payload.get("status_reason") or payload.get("reason"))
    ]
