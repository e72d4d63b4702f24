"""What the rounds add to a case's record: the recommendations given when it was presented.

Discovered by the case record endpoint (notes domain), which merges entries by `at`.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Case
from app.rounds.models import RoundAgendaItem, RoundSeries


async def record_entries(session: AsyncSession, case: Case) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(RoundAgendaItem, col(RoundSeries.title), col(RoundSeries.timezone))
            .join(RoundSeries, col(RoundSeries.id) == col(RoundAgendaItem.series_id))
            .where(
                col(RoundAgendaItem.case_id) == case.id,
                col(RoundAgendaItem.recommendation).is_not(None),
            )
            .order_by(col(RoundAgendaItem.recommended_at), col(RoundAgendaItem.id))
        )
    ).all()
    return [
        {
            "at": item.recommended_at,
            "type": "round_recommendation",
            "id": item.id,
            "round_id": item.series_id,
            "round_title": title,
            "occurrence_start": item.occurrence_start,
            "presenter_id": item.presenter_id,
            "recommendation": item.recommendation,
            "recommended_by_id": item.recommended_by_id,
        }
        for item, title, _tz in rows
    ]
