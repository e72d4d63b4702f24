"""One vocabulary of principals: kinds, roles and scopes as types, one code per refusal."""

import pytest

from app.core.principal import (
    InsufficientScope,
    Principal,
    PrincipalKind,
    Role,
    RoleForbidden,
    Scope,
)


def _client(*scopes: str) -> Principal:
    return Principal(
        id="cli_1", kind="client", role=Role.clinician, organization_id="org_1", scopes=scopes
    )


def test_whatever_spelled_them_they_compare_as_enums():
    p = _client("cases:read")
    assert p.kind is PrincipalKind.client and p.is_client and not p.is_user
    assert p.scopes == frozenset({Scope.cases_read})
    assert p.has_scope(Scope.cases_read) and not p.has_scope(Scope.cases_write)


def test_a_missing_scope_is_always_insufficient_scope():
    p = _client("rounds:read")
    with pytest.raises(InsufficientScope) as refused:
        p.require_scope(Scope.cases_write)
    assert refused.value.status == 403 and refused.value.code == "insufficient-scope"
    assert refused.value.extra["scope"] == "cases:write"
    p.require_scope(Scope.rounds_read)


def test_users_act_with_their_role_and_clients_never_pass_a_role_check():
    coordinator = Principal(
        id="usr_1", kind=PrincipalKind.user, role=Role.coordinator, organization_id=None
    )
    assert coordinator.is_staff and coordinator.has_scope(Scope.webhooks_manage)
    coordinator.require_role(Role.coordinator)
    with pytest.raises(RoleForbidden) as refused:
        coordinator.require_role(Role.admin)
    assert refused.value.code == "forbidden"
    with pytest.raises(RoleForbidden):
        _client(*[s.value for s in Scope]).require_role(*Role)
    assert not _client().is_staff
