"""Start-up data when several app processes start at once (a deploy behind a load
balancer): one admin, and nobody fails to start."""

import asyncio

from sqlalchemy import func, select
from sqlmodel import col

from app import bootstrap
from app.auth.models import User
from app.core.config import Settings
from app.core.db import unit_of_work

ADMIN = "first.admin@example.org"


async def _start_up(settings: Settings) -> None:
    """What app.main's lifespan does with the database before serving."""
    async with unit_of_work() as session:
        await bootstrap.one_at_a_time(session)
        await bootstrap.ensure_admin(session, settings)


async def test_processes_starting_together_make_one_admin_and_all_start(app):
    settings = Settings(bootstrap_admin_email=ADMIN, bootstrap_admin_password="pw-long-enough-1")
    # Four at once, each in its own transaction (on PostgreSQL each its own connection).
    outcomes = await asyncio.gather(
        *(_start_up(settings) for _ in range(4)), return_exceptions=True
    )
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    async with unit_of_work() as s:
        admins = await s.scalar(
            select(func.count()).select_from(User).where(col(User.email) == ADMIN)
        )
    assert admins == 1
    # And a later start finds it there.
    await _start_up(settings)
    async with unit_of_work() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 1
