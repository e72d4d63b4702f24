"""Who is calling: a user or a partner app's API client. No FastAPI here."""

from dataclasses import dataclass, field

from app.auth.models import Role


@dataclass(frozen=True)
class Principal:
    id: str
    kind: str  # "user" | "client"
    role: Role
    organization_id: str | None
    scopes: frozenset[str] = field(default_factory=frozenset)
    jti: str = ""
    exp: int = 0
    ip: str | None = None

    @property
    def is_client(self) -> bool:
        return self.kind == "client"

    def has_scope(self, scope: str) -> bool:
        # Users act with their role's rights; API clients only within their scopes.
        return self.kind == "user" or scope in self.scopes
