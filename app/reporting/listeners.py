"""What reporting does, in the same transaction, when a note or feedback changes a case's
measures: its `case_timing` row is rewritten at once, so the next read of the measures
already counts it (the catch-up pass finds lifecycle and offer changes from the outbox)."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import OutboxEvent
from app.events.service import listen
from app.reporting.rollup import recompute


@listen("note.signed")
@listen("note.acknowledged")
@listen("feedback.given")
async def recompute_case_timing(session: AsyncSession, event: OutboxEvent) -> None:
    await recompute(session, [str(event.payload["case_id"])])
