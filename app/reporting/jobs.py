"""Keeps the measures' case timing current between requests (each request also catches up)."""

from app.core.db import sessionmaker
from app.reporting.rollup import catch_up


async def case_timing() -> None:
    async with sessionmaker()() as session:
        await catch_up(session)
        await session.commit()


JOBS = {"reporting.case_timing": case_timing}
