"""Who may see and change which user accounts: decided here and nowhere else (the cases
domain adds one clause, found by name: app/cases/directory.py, the people on her cases)."""

from collections.abc import Callable

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import col

from app.auth.models import User
from app.core.principal import Principal, Role, RoleForbidden, Scope
from app.core.registry import domain_modules

# Whom each role sees beyond themselves, by role (a clinician also sees her own facility's
# colleagues). Remote people see who cases are routed to and who routes them. A specialist
# also sees interpreters: a case's assigned specialist may add one to it
# (app.cases.service.add_participant), so she must be able to find one.
_ROLES_SEEN: dict[Role, tuple[Role, ...]] = {
    Role.clinician: (Role.specialist, Role.interpreter, Role.coordinator),
    Role.specialist: (Role.coordinator, Role.specialist, Role.interpreter),
    Role.interpreter: (Role.coordinator, Role.specialist),
}


def visible_users(p: Principal) -> ColumnElement[bool]:
    """The WHERE clause for users this principal may see."""
    if p.is_client:
        # An app without cases:read sees nobody (404), even on routes that only need a
        # signed-in caller (PATCH /users/{id}).
        if not p.has_scope(Scope.cases_read):
            return false()
        return col(User.organization_id) == p.organization_id
    if p.is_staff:
        return true()
    by_role = col(User.role).in_([r.value for r in _ROLES_SEEN[p.role]])
    if p.role is Role.clinician:
        return (col(User.organization_id) == p.organization_id) | by_role
    # And whom the domains say she works with (`directory.py`: the people on her cases).
    wider = [clause for rule in _shared_rules() if (clause := rule(p)) is not None]
    return or_(col(User.id) == p.id, by_role, *wider)


_Rule = Callable[[Principal], ColumnElement[bool] | None]
_rules: list[_Rule] | None = None


def _shared_rules() -> list[_Rule]:
    global _rules
    if _rules is None:
        _rules = [m.shared for m in domain_modules("directory")]
    return _rules


def may_invite(p: Principal, role: Role) -> bool:
    """Whether `p` may create (or invite, or take back an invitation to) this role."""
    try:
        can_create(p, role)
    except RoleForbidden:
        return False
    return True


def can_create(p: Principal, role: Role) -> None:
    if p.is_client:
        raise RoleForbidden("API clients cannot create users.")
    if p.role is Role.admin:
        return
    if p.role is Role.coordinator and role in (Role.clinician, Role.specialist, Role.interpreter):
        return
    raise RoleForbidden("Your role may not create this kind of user.")


def can_update(p: Principal, target: User, fields: set[str]) -> None:
    if p.is_client:
        raise RoleForbidden("API clients cannot change users.")
    if p.role is Role.admin:
        return
    if p.role is Role.coordinator and target.role != Role.admin.value and "role" not in fields:
        return
    # Herself: her name and the languages she speaks.
    if p.id == target.id and fields <= {"name", "languages"}:
        return
    raise RoleForbidden("You may not change this user.")
