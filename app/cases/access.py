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


def summary_access(p: Principal) -> Any:
    """WHERE clause: cases this principal sees at least the summary of."""
    if p.is_user and p.role == Role.specialist:
        offered = exists().where(
            col(Offer.case_id) == col(Case.id),
            col(Offer.specialist_id) == _me(p),
            col(Offer.status) == OfferStatus.pending.value,
        )
        return or_(full_access(p), offered)
    return full_access(p)


async def view_of(session: AsyncSession, p: Principal, case_id: str) -> tuple[Case, View] | None:
    """The case and how much of it the principal may see, or None when they may not."""
    full = full_access(p)
    stmt = select(Case, and_(true(), full).label("full")).where(
        col(Case.id) == case_id, summary_access(p)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    return row[0], View.full if row[1] else View.summary


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
