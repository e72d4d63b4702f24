"""Figures for Prometheus: offers waiting for a specialist's answer."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Offer, OfferStatus
from app.core.observability import Figure
from app.core.queries import fixed


async def figures(session: AsyncSession, state: Any) -> list[Figure]:
    pending = await session.scalar(
        select(func.count()).where(col(Offer.status) == fixed(OfferStatus.pending))
    )
    return [
        Figure(
            "consult_offers_pending",
            "Offers waiting for the specialist's answer.",
            int(pending or 0),
        )
    ]
