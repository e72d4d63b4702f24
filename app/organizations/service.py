"""Facilities. Anyone signed in may see a facility and what it has, except that a
facility's own staff and apps see only their own."""

from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.clock import utcnow
from app.core.errors import NotFound, Unprocessable
from app.core.pagination import keyset_page
from app.core.principal import Principal, Role, RoleForbidden
from app.organizations.models import Organization


def visible_organizations(p: Principal) -> ColumnElement[bool]:
    """A facility's own clinicians and apps see only it; everyone else sees every one."""
    if p.is_client or p.role is Role.clinician:
        return col(Organization.id) == p.organization_id
    return true()


async def create(session: AsyncSession, actor: Principal, data: dict[str, Any]) -> Organization:
    if not actor.is_staff:
        raise RoleForbidden("Only coordinators and admins register facilities.")
    org = Organization(**data)
    session.add(org)
    await session.flush()
    return org


async def get(session: AsyncSession, actor: Principal, org_id: str) -> Organization:
    org = await session.scalar(
        select(Organization).where(col(Organization.id) == org_id, visible_organizations(actor))
    )
    if org is None:
        raise NotFound("No such organization.")
    return org


async def list_(
    session: AsyncSession,
    actor: Principal,
    limit: int,
    cursor: str | None,
    country: str | None = None,
) -> tuple[list[Organization], str | None]:
    stmt = select(Organization).where(visible_organizations(actor))
    if country:
        stmt = stmt.where(col(Organization.country) == country.upper())
    return await keyset_page(session, stmt, Organization.id, limit, cursor)


async def update(
    session: AsyncSession, actor: Principal, org_id: str, data: dict[str, Any]
) -> Organization:
    org = await get(session, actor, org_id)
    # Local clinicians keep their own facility's resources current; staff may edit any.
    own = actor.is_user and actor.role is Role.clinician and actor.organization_id == org.id
    if not (own or actor.is_staff):
        raise RoleForbidden("You may not change this facility.")
    absent = [k for k, v in data.items() if v is None]
    if absent:  # every field of a facility has a value: null is not a change
        raise Unprocessable(
            "A facility's fields cannot be emptied; leave out what does not change.",
            errors=[{"pointer": f"/{k}", "detail": "may not be null"} for k in absent],
        )
    for k, v in data.items():
        setattr(org, k, v)
    org.updated_at = utcnow()
    await session.flush()
    return org
