"""What matching does, in the same transaction, when another domain changes a case."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case
from app.events.models import OutboxEvent
from app.events.service import listen
from app.matching import service


@listen("case.cancelled")
async def withdraw_offers_of_cancelled_case(session: AsyncSession, event: OutboxEvent) -> None:
    """Its pending offers go in the cancelling transaction, so no specialist still sees it."""
    case = await session.get(Case, event.resource_id)  # already loaded (and locked) by cancel
    if case is not None:
        await service.withdraw_pending(session, case)
