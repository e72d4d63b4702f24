"""Facilities. Anyone signed in may see a facility and what it has, except that a
facility's own staff and apps see only their own.

Every change bumps `version` (the ETag) with a conditional UPDATE: a change sent with
If-Match lands only on the version it names (`WHERE version = :seen`), so of two edits made
from the same read exactly one lands and the other is told it is stale (412)."""

from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select, true
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.clock import utcnow
from app.core.conditional import check_if_match, etag
from app.core.errors import Conflict, NotFound, PreconditionFailed
from app.core.pagination import decode_cursor, page_of
from app.core.principal import Principal, Role, RoleForbidden
from app.core.queries import Statement, queries
from app.organizations.models import Organization


class FacilityExists(Conflict):
    """A facility of this name is already registered in this country."""

    code = "facility-exists"


def _own_only(p: Principal) -> bool:
    return p.is_client or p.role is Role.clinician


def visible_organizations(p: Principal) -> ColumnElement[bool]:
    """A facility's own clinicians and apps see only it; everyone else sees every one. The
    principal's facility is the named parameter `acc_org`, so a statement built from this
    rule serves every principal of the same kind."""
    if _own_only(p):
        return col(Organization.id) == bindparam("acc_org", p.organization_id)
    return true()


_TABLE: Any = Organization.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
# One facility under the rule, for those who see only their own and for everyone else.
_READ = {
    own: Statement(
        select(_TABLE).where(
            _TABLE.c.id == bindparam("org_id"),
            (_TABLE.c.id == bindparam("acc_org")) if own else true(),
        )
    )
    for own in (True, False)
}


async def read(session: AsyncSession, actor: Principal, org_id: str) -> dict[str, Any]:
    """One facility as it is shown (a read on the fast lane; `get` loads it to change it)."""
    db = await queries(session)
    rows = await db.fetch_dicts(
        _READ[_own_only(actor)], {"org_id": org_id, "acc_org": actor.organization_id}
    )
    if not rows:
        raise NotFound("No such organization.")
    return rows[0]


async def _refuse_same_name(
    session: AsyncSession, name: str, country: str, other_than: str | None = None
) -> None:
    """Two facilities of one name in one country cannot be told apart where people pick one
    (whom to invite, where a round is hosted): registering or renaming into one is refused."""
    stmt = select(col(Organization.id)).where(
        func.lower(col(Organization.name)) == name.strip().lower(),
        col(Organization.country) == country,
    )
    if other_than is not None:
        stmt = stmt.where(col(Organization.id) != other_than)
    same = await session.scalar(stmt)
    if same is not None:
        raise FacilityExists(
            f"A facility named {name!r} is already registered in {country}.",
            organization_id=same,
        )


async def create(session: AsyncSession, actor: Principal, data: dict[str, Any]) -> Organization:
    if not actor.is_staff:
        raise RoleForbidden("Only coordinators and admins register facilities.")
    await _refuse_same_name(session, data["name"], data["country"])
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


# The list's cursors, as keyset_page names them (its table and key column).
_CURSOR = "organization.id"
_list_sql: dict[tuple[bool, bool, bool], Statement] = {}


def _list_statement(actor: Principal, by_country: bool, after: bool) -> Statement:
    """Facilities under the rule above, newest first; one statement per shape of principal
    and filters. Read on the fast lane: loading 50 facilities as ORM objects cost more than
    the rest of the request (1.7 ms in-process)."""
    key = (_own_only(actor), by_country, after)
    found = _list_sql.get(key)
    if found is None:
        stmt = select(_TABLE).where(visible_organizations(actor))
        if by_country:
            stmt = stmt.where(_TABLE.c.country == bindparam("country"))
        if after:
            stmt = stmt.where(_TABLE.c.id < bindparam("after"))
        stmt = stmt.order_by(_TABLE.c.id.desc()).limit(bindparam("lim"))
        found = _list_sql[key] = Statement(stmt)
    return found


async def list_(
    session: AsyncSession,
    actor: Principal,
    limit: int,
    cursor: str | None,
    country: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    after = decode_cursor(cursor, _CURSOR) if cursor else None  # `?cursor=`: the first page
    db = await queries(session)
    rows = await db.fetch_dicts(
        _list_statement(actor, bool(country), after is not None),
        {
            "acc_org": actor.organization_id,
            "country": country.upper() if country else None,
            "after": after,
            "lim": limit + 1,
        },
    )
    return page_of(rows, limit, _CURSOR)


async def update(
    session: AsyncSession,
    actor: Principal,
    org_id: str,
    if_match: str | None,
    data: dict[str, Any],
) -> Organization:
    org = await get(session, actor, org_id)
    # Local clinicians keep their own facility's resources current; staff may edit any.
    own = actor.is_user and actor.role is Role.clinician and actor.organization_id == org.id
    if not (own or actor.is_staff):
        raise RoleForbidden("You may not change this facility.")
    # If-Match is optional here (the contract requires it of notes only); when sent, the
    # write lands only on the version it names, even against a writer still in flight.
    check_if_match(if_match, etag(org.version), what="facility")
    if "name" in data:
        await _refuse_same_name(session, data["name"], org.country, other_than=org.id)
    if not data:
        return org  # nothing changes: neither the version nor the time
    conditional = bool(if_match and if_match.strip())
    stmt = sql_update(Organization).where(col(Organization.id) == org.id)
    if conditional:
        stmt = stmt.where(col(Organization.version) == org.version)
    result = await session.execute(
        stmt.values(
            version=col(Organization.version) + 1, updated_at=utcnow(), **data
        ).execution_options(synchronize_session=False)
    )
    await session.refresh(org)
    if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
        raise PreconditionFailed(
            "Someone changed this facility meanwhile: read it again.",
            current_etag=etag(org.version),
        )
    return org
