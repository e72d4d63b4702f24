"""FHIR Practitioner (a person with an account) and Organization (a facility), under the
rules of the domains that own them: a person is visible to whoever GET /users/{id} or
GET /specialists/{id} shows them to (app.auth.access, app.specialists.service); a facility
to whoever GET /organizations/{id} shows it to (app.organizations.service)."""

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.access import visible_users
from app.auth.models import User
from app.core.principal import Principal
from app.fhir import resources as fhir
from app.fhir.search import Search, date_clauses
from app.fhir.service import FhirNotFound, tagged
from app.organizations.models import Organization
from app.organizations.service import visible_organizations
from app.specialists.models import SpecialistProfile
from app.specialists.service import visible_specialists


def _people(p: Principal) -> Any:
    """Users the caller may see as a user or as a specialist in the directory."""
    return (
        select(User)
        .outerjoin(SpecialistProfile, col(SpecialistProfile.user_id) == col(User.id))
        .where(or_(visible_users(p), visible_specialists(p)))
    )


def _words(column: Any, name: str) -> ColumnElement[bool]:
    """FHIR string search: the name, or a word of it, starts with the text (any case)."""
    q = name.strip().lower()
    low = func.lower(column)
    return or_(low.startswith(q, autoescape=True), low.contains(" " + q, autoescape=True))


async def read_practitioner(
    session: AsyncSession, p: Principal, user_id: str
) -> tuple[dict[str, Any], str]:
    user = await session.scalar(_people(p).where(col(User.id) == fhir.our_id(user_id)))
    if user is None:
        raise FhirNotFound("No such practitioner.")
    return tagged(fhir.practitioner(user))


async def _page(
    session: AsyncSession, s: Search, stmt: Any, key: Any, build: Any
) -> dict[str, Any]:
    """One page in id order, with the true total of the search."""
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows: list[Any] = []
    nxt = None
    if s.count:
        after = s.after()
        if after is not None:
            stmt = stmt.where(key > str(after))
        rows = list((await session.scalars(stmt.order_by(key).limit(s.count + 1))).all())
        if len(rows) > s.count:
            rows = rows[: s.count]
            nxt = s.next_url(rows[-1].id)
    return fhir.bundle(s.self_url(), [build(r) for r in rows], s.base, total, nxt)


async def search_practitioners(
    session: AsyncSession,
    p: Principal,
    s: Search,
    *,
    name: str | None = None,
    active: bool | None = None,
    last_updated: list[str] | None = None,
) -> dict[str, Any]:
    stmt = _people(p)
    if name:
        stmt = stmt.where(_words(col(User.name), name))
    if active is not None:
        stmt = stmt.where(col(User.active) == active)
    stmt = stmt.where(*date_clauses(col(User.updated_at), last_updated))
    return await _page(session, s, stmt, col(User.id), fhir.practitioner)


async def read_organization(
    session: AsyncSession, p: Principal, org_id: str
) -> tuple[dict[str, Any], str]:
    org = await session.scalar(
        select(Organization).where(
            col(Organization.id) == fhir.our_id(org_id), visible_organizations(p)
        )
    )
    if org is None:
        raise FhirNotFound("No such organization.")
    return tagged(fhir.organization(org))


async def search_organizations(
    session: AsyncSession,
    p: Principal,
    s: Search,
    *,
    name: str | None = None,
    country: str | None = None,
    last_updated: list[str] | None = None,
) -> dict[str, Any]:
    stmt = select(Organization).where(visible_organizations(p))
    if name:
        stmt = stmt.where(_words(col(Organization.name), name))
    if country:
        stmt = stmt.where(col(Organization.country) == country.upper())
    stmt = stmt.where(*date_clauses(col(Organization.updated_at), last_updated))
    return await _page(session, s, stmt, col(Organization.id), fhir.organization)
