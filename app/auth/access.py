"""Who may see and change which user accounts: decided here and nowhere else."""

from sqlalchemy import ColumnElement, false, true
from sqlmodel import col

from app.auth.models import User
from app.core.principal import Principal, Role, RoleForbidden, Scope


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
    if p.role is Role.clinician:
        # A clinician sees their colleagues, and the remote people cases are routed to.
        return (col(User.organization_id) == p.organization_id) | col(User.role).in_(
            [Role.specialist.value, Role.interpreter.value, Role.coordinator.value]
        )
    if p.role is Role.specialist:
        # A case's assigned specialist may add an interpreter to it
        # (app.cases.service.add_participant), so she must be able to find one.
        return (col(User.id) == p.id) | col(User.role).in_(
            [Role.coordinator.value, Role.specialist.value, Role.interpreter.value]
        )
    return (col(User.id) == p.id) | col(User.role).in_(
        [Role.coordinator.value, Role.specialist.value]
    )


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
    if p.id == target.id and fields <= {"name"}:
        return
    raise RoleForbidden("You may not change this user.")
