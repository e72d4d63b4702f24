"""Whom the people directory (app.auth.access) shows beyond its rule by role: the people a
specialist or an interpreter shares a case with. A remote helper on a case (assigned to
it, or added to it) finds everyone on it, the referring clinician above all, whom the room,
the note and the follow-ups otherwise could only call "Clinician". Nobody else widens:
a clinician already finds her facility and the remote people, staff find everyone."""

from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, exists, or_, select, union
from sqlmodel import col

from app.auth.models import User
from app.cases.models import Case, CaseParticipant
from app.core.principal import Principal, Role


def shared(p: Principal) -> ColumnElement[bool] | None:
    """The users on the cases this principal takes part in, or None when the rule by role
    already says all."""
    if not p.is_user or p.role not in (Role.specialist, Role.interpreter):
        return None
    mine = or_(
        col(Case.assigned_specialist_id) == p.id,
        exists().where(
            col(CaseParticipant.case_id) == col(Case.id), col(CaseParticipant.user_id) == p.id
        ),
    )
    on_them: CompoundSelect[Any] = union(
        select(col(Case.submitted_by_id)).where(mine),
        select(col(Case.assigned_specialist_id)).where(mine),
        select(col(CaseParticipant.user_id)).where(
            col(CaseParticipant.case_id).in_(select(col(Case.id)).where(mine))
        ),
    )
    return col(User.id).in_(select(on_them.subquery().c[0]))
