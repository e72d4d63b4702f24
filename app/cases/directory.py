"""Whom the people directory (app.auth.access) shows beyond its rule by role: the people a
specialist or an interpreter shares a case with. A remote helper on a case (assigned to
it, or added to it) finds the others on it, the referring clinician above all, whom the
room, the note and the follow-ups otherwise could only call "Clinician". Nobody else
widens: a clinician already finds her facility and the remote people, staff find everyone.

What she finds is the directory's whole entry (name, email, languages, facility), as for
anyone the directory shows her: she and the clinician work on the case together."""

from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, select, union
from sqlmodel import col

from app.auth.models import User
from app.cases.models import Case, CaseParticipant
from app.core.principal import Principal, Role


def shared(p: Principal) -> ColumnElement[bool] | None:
    """The users on the cases this principal takes part in, or None when the rule by role
    already says all. Her cases come from two index seeks (assigned to her; added to it),
    never a walk of every case; the specialists on them she finds by role already."""
    if not p.is_user or p.role not in (Role.specialist, Role.interpreter):
        return None
    hers: CompoundSelect[Any] = union(
        select(col(Case.id)).where(col(Case.assigned_specialist_id) == p.id),
        select(col(CaseParticipant.case_id)).where(col(CaseParticipant.user_id) == p.id),
    )
    on_them: CompoundSelect[Any] = union(
        select(col(Case.submitted_by_id)).where(
            col(Case.id).in_(hers), col(Case.submitted_by_id).is_not(None)
        ),
        # The others added to her cases (an interpreter finds no other interpreter by role).
        select(col(CaseParticipant.user_id)).where(col(CaseParticipant.case_id).in_(hers)),
    )
    return col(User.id).in_(select(on_them.subquery().c[0]))
