"""Who may see and change which user accounts: decided here and nowhere else."""

from typing import Any

from sqlalchemy import false, true
from sqlmodel import col

from app.auth.models import User
from app.core.errors import Forbidden
from app.core.principal import Principal, Role


def visible_users(p: Principal) -> Any:
    """The WHERE clause for users this principal may see."""
    if p.kind == "client":
        return (
            col(User.organization_id) == p.organization_id if p.has_scope("cases:read") else false()
        )
    if p.role in (Role.admin, Role.coordinator):
        return true()
    if p.role == Role.clinician:
        # A clinician sees their colleagues, and the remote people cases are routed to.
        return (col(User.organization_id) == p.organization_id) | col(User.role).in_(
            [Role.specialist.value, Role.interpreter.value, Role.coordinator.value]
        )
    return (col(User.id) == p.id) | col(User.role).in_(
        [Role.coordinator.value, Role.specialist.value]
    )


def can_create(p: Principal, role: Role) -> None:
    if p.kind != "user":
        raise Forbidden("API clients cannot create users.")
    if p.role == Role.admin:
        return
    if p.role == Role.coordinator and role in (Role.clinician, Role.specialist, Role.interpreter):
        return
    raise Forbidden("Your role may not create this kind of user.")


def can_update(p: Principal, target: User, fields: set[str]) -> None:
    if p.kind != "user":
        raise Forbidden("API clients cannot change users.")
    if p.role == Role.admin:
        return
    if p.role == Role.coordinator and target.role != Role.admin.value and "role" not in fields:
        return
    if p.id == target.id and fields <= {"name", "password"}:
        return
    raise Forbidden("You may not change this user.")
