"""Figures for Prometheus: how far webhooks are behind (app/core/observability.py)."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.clock import utcnow
from app.core.observability import Figure
from app.events.models import OutboxEvent
from app.partners.feed import FANOUT
from app.partners.models import DeliveryStatus, PartnerCursor, WebhookDelivery


async def figures(session: AsyncSession, state: Any) -> list[Figure]:
    top = await session.scalar(select(func.max(col(OutboxEvent.id)))) or 0
    fanned = await session.scalar(
        select(col(PartnerCursor.position)).where(col(PartnerCursor.name) == FANOUT)
    )
    pending, oldest = (
        await session.execute(
            select(func.count(), func.min(col(WebhookDelivery.created_at))).where(
                col(WebhookDelivery.status) == DeliveryStatus.pending
            )
        )
    ).one()
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return [
        Figure(
            "consult_outbox_lag_events",
            "Committed outbox events the webhook fan-out has not reached yet.",
            max(0, int(top) - int(fanned or 0)),
        ),
        Figure(
            "consult_webhook_backlog",
            "Webhook deliveries waiting to be sent or retried.",
            int(pending or 0),
        ),
        Figure(
            "consult_webhook_oldest_pending_seconds",
            "Age of the oldest webhook delivery still pending (0 when none).",
            max(0.0, age),
        ),
    ]
