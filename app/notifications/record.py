"""What escalation adds to a case's record: the offer widened, the coordinators told, the
deadline missed."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case
from app.notifications.models import CaseEscalation


async def record_entries(session: AsyncSession, case: Case) -> list[dict[str, Any]]:
    row = await session.get(CaseEscalation, case.id)
    if row is None:
        return []
    out: list[dict[str, Any]] = []
    if row.widened_at:
        out.append(
            {
                "at": row.widened_at,
                "type": "escalation_widened",
                "id": case.id,
                "offers": row.widened_offers,
            }
        )
    if row.coordinators_told_at:
        out.append(
            {
                "at": row.coordinators_told_at,
                "type": "escalation_coordinators_told",
                "id": case.id,
                "respond_by": row.deadline,
            }
        )
    if row.overdue_at:
        out.append(
            {"at": row.overdue_at, "type": "overdue", "id": case.id, "respond_by": row.deadline}
        )
    return out
