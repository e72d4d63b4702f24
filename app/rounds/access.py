"""Who sees and who edits a round series.

Visibility (every list is built from `visible_series`):
- admin, coordinator: every series;
- clinician: the series their facility hosts, and those they take part in;
- specialist, interpreter: the series they take part in;
- API client: its facility's series, with rounds:read.
Editing (schedule, participants, agenda, attendance): staff, the host facility's clinicians,
and the host's API clients with rounds:write.
"""

from typing import Any

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.conditional import check_if_match
from app.core.conditional import etag as version_tag
from app.core.errors import Forbidden
from app.core.principal import Principal, Role, Scope
from app.organizations.models import Organization
from app.rounds.errors import RoundNotFound
from app.rounds.models import RoundParticipant, RoundSeries


def _takes_part(user_id: str) -> ColumnElement[bool]:
    return exists().where(
        col(RoundParticipant.series_id) == col(RoundSeries.id),
        col(RoundParticipant.user_id) == user_id,
    )


def visible_series(p: Principal) -> ColumnElement[bool]:
    """WHERE clause: the series this principal may see."""
    clause: ColumnElement[bool]
    if p.is_client:
        clause = (
            col(RoundSeries.host_organization_id) == p.organization_id
            if p.has_scope(Scope.rounds_read)
            else false()
        )
    elif p.is_staff:
        clause = true()
    elif p.role == Role.clinician:
        clause = or_(col(RoundSeries.host_organization_id) == p.organization_id, _takes_part(p.id))
    else:
        clause = _takes_part(p.id)
    return col(RoundSeries.deleted_at).is_(None) & clause


def can_edit(p: Principal, series: RoundSeries) -> bool:
    if p.is_client:
        return p.organization_id == series.host_organization_id and p.has_scope(Scope.rounds_write)
    if p.is_staff:
        return True
    return p.role == Role.clinician and p.organization_id == series.host_organization_id


def may_advise(p: Principal, series: RoundSeries) -> bool:
    """The specialists in the room give the round's advice; the host runs the agenda."""
    return can_edit(p, series) or (p.is_user and p.role == Role.specialist)


def require_edit(p: Principal, series: RoundSeries) -> None:
    if not can_edit(p, series):
        raise Forbidden("Only the host facility and programme staff change this round.")


async def get_series(
    session: AsyncSession, p: Principal, series_id: str, *, lock: bool = False
) -> RoundSeries:
    """`lock`: the series' row held to the commit (a write's). Every change to a round or
    its occurrences bumps the series' version, so two at once wait for each other: the
    second reads the first's version, for If-Match and for its own bump, and sees what the
    first wrote (the attendance that makes an occurrence held, its cancellation). Without
    it, on PostgreSQL both passed If-Match and one version was lost. (SQLite's writers
    already run one at a time.)"""
    stmt = select(RoundSeries).where(col(RoundSeries.id) == series_id, visible_series(p))
    if lock:
        # FOR NO KEY UPDATE: writers wait for each other, while rows that only refer to the
        # series (a reminder sent, an attendance) are still inserted beside it.
        stmt = stmt.with_for_update(of=RoundSeries, key_share=True).execution_options(
            populate_existing=True
        )
    series = await session.scalar(stmt)
    if series is None:
        raise RoundNotFound("No such round.")
    return series


def with_host_name() -> Any:
    """Series with their host facility's name (one join), and the bare id column: the
    keyset pagination key."""
    return select(RoundSeries, col(Organization.name), col(RoundSeries.id).label("id")).join(
        Organization, col(Organization.id) == col(RoundSeries.host_organization_id)
    )


def named(series: RoundSeries, host_name: str) -> dict[str, Any]:
    """A series as read: its host facility named, for everyone who may see the series
    (GET /organizations/{id} shows a clinician only her own facility)."""
    return {**series.model_dump(), "host_organization_name": host_name}


async def get_named(session: AsyncSession, p: Principal, series_id: str) -> dict[str, Any]:
    row = (
        await session.execute(
            with_host_name().where(col(RoundSeries.id) == series_id, visible_series(p))
        )
    ).first()
    if row is None:
        raise RoundNotFound("No such round.")
    return named(row[0], row[1])


async def host_named(session: AsyncSession, series: RoundSeries) -> dict[str, Any]:
    """A series just written, as read."""
    name = await session.scalar(
        select(col(Organization.name)).where(col(Organization.id) == series.host_organization_id)
    )
    return named(series, name or "")


async def get_editable(
    session: AsyncSession, p: Principal, series_id: str, if_match: str | None = None
) -> RoundSeries:
    series = await get_series(session, p, series_id, lock=True)
    require_edit(p, series)
    check_if_match(if_match, etag(series), what="round")
    return series


def etag(series: RoundSeries) -> str:
    """The series' ETag: occurrence cancels and moves bump its version too."""
    return version_tag(series.version)
