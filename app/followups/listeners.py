"""What follow-ups do, in the same transaction, when another domain changes a case."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import OutboxEvent
from app.events.service import listen
from app.followups import service


@listen("case.cancelled")
async def cancel_follow_ups_of_cancelled_case(session: AsyncSession, event: OutboxEvent) -> None:
    """Its open follow-ups end with it (service.cancel_open_of)."""
    await service.cancel_open_of(
        session, event.resource_id, event.organization_id, event.payload.get("actor_id")
    )
