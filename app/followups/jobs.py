"""Background passes for follow-ups (run by app/worker.py; tests call them directly)."""

from app.core.db import sessionmaker
from app.followups.service import notify_due


async def followups_due() -> None:
    """One bounded pass: owners of follow-ups that fell due hear of it, once."""
    async with sessionmaker()() as session:
        await notify_due(session)
        await session.commit()


JOBS = {"followups.due": followups_due}
