"""Figures for Prometheus: events committed but not yet published to live listeners."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.clock import utcnow
from app.core.observability import Figure
from app.events.models import OutboxEvent


async def figures(session: AsyncSession, state: Any) -> list[Figure]:
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(col(OutboxEvent.created_at))).where(
                col(OutboxEvent.published_at).is_(None)
            )
        )
    ).one()
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return [
        Figure(
            "consult_outbox_unpublished_events",
            "Committed outbox events the relay has not published to live listeners yet.",
            int(count or 0),
        ),
        Figure(
            "consult_outbox_lag_seconds",
            "Age of the oldest unpublished outbox event (0 when none).",
            max(0.0, age),
        ),
    ]
