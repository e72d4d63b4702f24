"""Keeps the measures' case timing current between requests (each request also catches up)."""

from app.core.db import unit_of_work
from app.reporting.rollup import catch_up


async def case_timing() -> None:
    async with unit_of_work() as session:
        await catch_up(session)


JOBS = {"reporting.case_timing": case_timing}
