"""Who is calling, in one vocabulary: kinds of principal, roles and scopes. No FastAPI here.

Every authorisation decision speaks these types; compare with them, never with strings.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from app.core.errors import Forbidden, bearer_challenge


class PrincipalKind(StrEnum):
    user = "user"  # a person signed in with a password
    client = "client"  # a partner app's API client, bound to one facility


class Role(StrEnum):
    clinician = "clinician"
    specialist = "specialist"
    interpreter = "interpreter"
    coordinator = "coordinator"
    admin = "admin"


class Scope(StrEnum):
    cases_read = "cases:read"
    cases_write = "cases:write"
    rounds_read = "rounds:read"
    rounds_write = "rounds:write"
    webhooks_manage = "webhooks:manage"


STAFF = frozenset({Role.admin, Role.coordinator})


def missing_scope(scope: Scope) -> str:
    """What an app is told: its token lacks the scope. Not "the client lacks it": a token
    asked for with fewer scopes than its client was granted lacks them too, and the app
    then needs a new token, not a request to the programme's admin."""
    return (
        f"This token does not carry the scope {scope.value}: ask for a token with it "
        "(the token request's `scope`), which the API client must have been granted."
    )


class InsufficientScope(Forbidden):
    """The API client's token lacks the scope this action needs."""

    code = "insufficient-scope"

    def __init__(self, scope: Scope) -> None:
        super().__init__(
            missing_scope(scope),
            scope=scope.value,
            # RFC 6750 §3.1: the client's library learns which scope to ask for.
            headers={"WWW-Authenticate": bearer_challenge("insufficient_scope", scope=scope.value)},
        )


class RoleForbidden(Forbidden):
    """The caller's role (or being an API client) may not take this action."""

    code = "forbidden"

    def __init__(self, detail: str = "Your role may not do this.") -> None:
        super().__init__(detail)


@dataclass(frozen=True)
class Principal:
    id: str
    kind: PrincipalKind
    role: Role
    organization_id: str | None
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    jti: str = ""
    exp: int = 0
    ip: str | None = None

    def __post_init__(self) -> None:
        # Built from a token, a row or a test: whatever spelled them, compare as enums.
        object.__setattr__(self, "kind", PrincipalKind(self.kind))
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "scopes", frozenset(Scope(s) for s in self.scopes))

    @property
    def is_client(self) -> bool:
        return self.kind is PrincipalKind.client

    @property
    def is_user(self) -> bool:
        return self.kind is PrincipalKind.user

    @property
    def is_staff(self) -> bool:
        """An admin or coordinator user (API clients never are)."""
        return self.is_user and self.role in STAFF

    def has_scope(self, scope: Scope) -> bool:
        # Users act with their role's rights; API clients only within their scopes.
        return self.is_user or scope in self.scopes

    def require_scope(self, scope: Scope) -> None:
        """Refuse an API client without `scope` (always 403 insufficient-scope)."""
        if not self.has_scope(scope):
            raise InsufficientScope(scope)

    def require_role(self, *roles: Role) -> None:
        """Only users with one of `roles` (API clients never pass)."""
        if not self.is_user:
            # An app has no role: told what the route is for, not that its "role" falls short.
            raise RoleForbidden("This is for people signed in, not for API clients.")
        if self.role not in roles:
            raise RoleForbidden()
