"""Background passes for follow-ups (run by app/worker.py; tests call them directly)."""

from app.core.db import unit_of_work
from app.followups.service import notify_due


async def followups_due() -> None:
    """One bounded pass: owners of follow-ups that fell due hear of it, once."""
    async with unit_of_work() as session:
        await notify_due(session)


JOBS = {"followups.due": followups_due}
