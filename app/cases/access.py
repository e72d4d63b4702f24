"""Who may see which case, and how much of it: decided here and nowhere else.

- admin, coordinator: every case, in full.
- clinician, and a facility's API client with cases:read: their facility's cases, in full.
- specialist: in full once assigned or added as a participant; only the summary (no patient
  reference, no attachments, no messages) while a pending offer stands.
- interpreter: in full, only the cases they were added to.
"""

from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Case, CaseParticipant, Offer, OfferStatus
from app.core.errors import NotFound
from app.core.principal import Principal, Role, Scope
from app.core.queries import Statement, fixed, queries


class CaseNotFound(NotFound):
    """No such case, or the caller may not see it."""


class View(StrEnum):
    full = "full"
    summary = "summary"


# The principal's values enter as named parameters (acc_me, acc_org), so a statement built
# from these rules for one principal is a template for every principal of the same
# `access_shape` (the case list caches its compiled SQL that way).


def access_shape(p: Principal) -> tuple[str, str, bool]:
    """What the rules below depend on besides the principal's ids."""
    return (p.kind, p.role.value, p.has_scope(Scope.cases_read))


def access_params(p: Principal) -> dict[str, Any]:
    return {"acc_me": p.id, "acc_org": p.organization_id}


def _me(p: Principal) -> Any:
    return bindparam("acc_me", p.id)


def full_access(p: Principal) -> Any:
    """WHERE clause: cases this principal sees in full."""
    if p.is_client:
        if not p.has_scope(Scope.cases_read):
            return false()
        return Case.organization_id == bindparam("acc_org", p.organization_id)
    if p.role in (Role.admin, Role.coordinator):
        return true()
    if p.role == Role.clinician:
        return Case.organization_id == bindparam("acc_org", p.organization_id)
    is_participant = exists().where(
        col(CaseParticipant.case_id) == col(Case.id), col(CaseParticipant.user_id) == _me(p)
    )
    if p.role == Role.specialist:
        return or_(col(Case.assigned_specialist_id) == _me(p), is_participant)
    return is_participant  # interpreter


def facility_scoped(p: Principal) -> bool:
    """True when `full_access` is exactly "cases of the caller's facility" (`acc_org`): a
    row that keeps its case's facility (a follow-up's `organization_id`) can then be
    filtered on its own column and index, not found through every case of the facility."""
    if p.is_client:
        return p.has_scope(Scope.cases_read)
    return p.role == Role.clinician


def summary_access(p: Principal) -> Any:
    """WHERE clause: cases this principal sees at least the summary of."""
    if p.is_user and p.role == Role.specialist:
        offered = exists().where(
            col(Offer.case_id) == col(Case.id),
            col(Offer.specialist_id) == _me(p),
            col(Offer.status) == fixed(OfferStatus.pending),
        )
        return or_(full_access(p), offered)
    return full_access(p)


_view_sql: dict[tuple[str, str, bool], Any] = {}


def _view_statement(p: Principal) -> Any:
    """The case and whether `p` sees it in full, under the rules above: built once per
    `access_shape` (building it cost more than running it), the ids bound per call."""
    key = access_shape(p)
    stmt = _view_sql.get(key)
    if stmt is None:
        stmt = _view_sql[key] = select(Case, and_(true(), full_access(p)).label("full")).where(
            col(Case.id) == bindparam("case_id"), summary_access(p)
        )
    return stmt


async def view_of(session: AsyncSession, p: Principal, case_id: str) -> tuple[Case, View] | None:
    """The case and how much of it the principal may see, or None when they may not."""
    params = {**access_params(p), "case_id": case_id}
    row = (await session.execute(_view_statement(p), params)).first()
    if row is None:
        return None
    return row[0], View.full if row[1] else View.summary


_CASE_TABLE: Any = Case.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
_snapshot_sql: dict[tuple[str, str, bool], Statement] = {}


async def snapshot_of(
    session: AsyncSession, p: Principal, case_id: str
) -> tuple[Case, View] | None:
    """As `view_of`, on the fast lane (app.core.queries): the case as it is now, a copy the
    session does not track, for routes that read a case to serve what belongs to it (its
    messages). Routes that change the case load it with `view_of`."""
    key = access_shape(p)
    stmt = _snapshot_sql.get(key)
    if stmt is None:
        stmt = _snapshot_sql[key] = Statement(
            select(*_CASE_TABLE.columns, and_(true(), full_access(p)).label("full")).where(
                _CASE_TABLE.c.id == bindparam("case_id"), summary_access(p)
            )
        )
    db = await queries(session)
    rows = await db.fetch_dicts(stmt, {**access_params(p), "case_id": case_id})
    if not rows:
        return None
    values = rows[0]
    full = values.pop("full")
    # Built without the ORM's instrumentation (a tenth of `Case(**values)`'s cost, measured):
    # the values were read through the columns' types, and nothing will flush this copy.
    return Case.model_construct(**values), View.full if full else View.summary


def can_act_as_local(p: Principal, case: Case) -> bool:
    """The case's own facility (its clinicians and apps with cases:write) leads the case."""
    if p.is_client:
        return p.organization_id == case.organization_id and p.has_scope(Scope.cases_write)
    return p.role == Role.clinician and p.organization_id == case.organization_id


async def load_case_child(
    session: AsyncSession,
    p: Principal,
    model: Any,
    child_id: str,
    *,
    resource: str,
    not_found: Exception,
) -> tuple[Any, Case]:
    """A row that belongs to a case (its `case_id`), with that case, for those who see the
    case in full. Anyone else gets `not_found` (a 404), and the denial is audited."""
    row = (
        await session.execute(
            select(model, Case)
            .join(Case, Case.id == model.case_id)
            .where(model.id == child_id, full_access(p))
        )
    ).first()
    if row is None:
        from app.audit import service as audit

        await audit.append_denied(p, f"{resource}.read", resource, child_id[:40])
        raise not_found
    return row[0], row[1]


_child_sql: dict[tuple[str, tuple[str, str, bool]], Statement] = {}


async def read_case_child(
    session: AsyncSession,
    p: Principal,
    model: Any,
    child_id: str,
    *,
    resource: str,
    not_found: Exception,
) -> dict[str, Any]:
    """As `load_case_child`, on the fast lane: the row as a dict, for routes that only show
    it. Its statement is built once per table and shape of principal."""
    table: Any = model.__table__
    key = (table.name, access_shape(p))
    stmt = _child_sql.get(key)
    if stmt is None:
        stmt = _child_sql[key] = Statement(
            select(table)
            .join(_CASE_TABLE, _CASE_TABLE.c.id == table.c.case_id)
            .where(table.c.id == bindparam("child_id"), full_access(p))
        )
    db = await queries(session)
    rows = await db.fetch_dicts(stmt, {**access_params(p), "child_id": child_id})
    if not rows:
        from app.audit import service as audit

        await audit.append_denied(p, f"{resource}.read", resource, child_id[:40])
        raise not_found
    return rows[0]
