"""Background passes for matching. All state is in the database (offers carry expires_at),
so a restart loses nothing: the next pass picks up whatever fell due meanwhile."""

from app.core.db import sessionmaker
from app.matching import service


async def expire_offers() -> None:
    async with sessionmaker()() as session:
        await service.expire_due(session)
        await session.commit()


async def offer_new_cases() -> None:
    async with sessionmaker()() as session:
        await service.auto_offer_new(session)
        await session.commit()


JOBS = {"matching.expire_offers": expire_offers, "matching.offer_new_cases": offer_new_cases}
