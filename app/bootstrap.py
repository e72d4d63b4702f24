"""Start-up data: the first admin, and the demo programme on a new, empty database."""

import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import service as auth_service
from app.auth.models import User
from app.core.config import Settings
from app.core.db import take_turns
from app.core.principal import Role

log = logging.getLogger("app.bootstrap")

DEMO_PASSWORD = "demo-password-1"


# Several app processes start at once behind a load balancer, each with the same
# BOOTSTRAP_* settings: the first to take this lock creates the admin (and the demo data);
# the others wait for its commit and find them there. (On SQLite every transaction takes
# the write lock at BEGIN, which serialises them the same way.)
_STARTUP_LOCK = 0x53545254  # "STRT"


async def one_at_a_time(session: AsyncSession) -> None:
    """The start-up transaction runs in one process at a time (until it ends)."""
    await take_turns(session, _STARTUP_LOCK)


async def ensure_admin(session: AsyncSession, s: Settings) -> None:
    if not (s.bootstrap_admin_email and s.bootstrap_admin_password):
        return
    has_admin = await session.scalar(
        select(col(User.id)).where(col(User.role) == Role.admin.value).limit(1)
    )
    if has_admin:
        return
    await auth_service.create_user(
        session,
        None,
        {
            "email": s.bootstrap_admin_email,
            "name": "Administrator",
            "role": Role.admin.value,
            "password": s.bootstrap_admin_password,
        },
    )
    log.info("created the bootstrap admin")


async def is_empty(session: AsyncSession) -> bool:
    from app.organizations.models import Organization

    return not await session.scalar(select(func.count()).select_from(Organization))


async def load_demo(session: AsyncSession) -> list[tuple[str, str]]:
    """A small programme: facilities in several countries and zones, specialists, staff."""
    from app.demo import load

    return await load(session, DEMO_PASSWORD)
