"""Figures for Prometheus: cases past their respond_by with no signed note, by urgency."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Case, CaseStatus, Urgency
from app.core.clock import utcnow
from app.core.observability import Figure

# Still waiting for an answer: a signed consult note makes a case `answered`.
_WAITING = (CaseStatus.submitted, CaseStatus.offered, CaseStatus.assigned, CaseStatus.unmatched)


async def figures(session: AsyncSession, state: Any) -> list[Figure]:
    rows = await session.execute(
        select(col(Case.urgency), func.count())
        .where(
            col(Case.status).in_([s.value for s in _WAITING]),
            col(Case.respond_by) < utcnow(),
        )
        .group_by(col(Case.urgency))
    )
    late = {str(u): int(n) for u, n in rows.all()}
    return [
        Figure(
            "consult_cases_past_deadline",
            "Open cases past their respond_by with no signed note.",
            late.get(u.value, 0),
            {"urgency": u.value},
        )
        for u in Urgency
    ]
