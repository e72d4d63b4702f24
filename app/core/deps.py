"""Typed dependencies every router uses: the session and the calling principal."""

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidAccessToken, Unauthorized
from app.core.principal import STAFF, Principal, PrincipalKind, Role, Scope
from app.core.queries import Statement, queries, row_json
from app.core.security import InvalidToken, decode_token


async def _session(request: Request) -> AsyncSession:
    # The route opened it (app.core.routing.AppRoute): one unit of work per request, which
    # commits after the handler returns and rolls back before an error is answered.
    session: AsyncSession = request.state.session
    return session


SessionDep = Annotated[AsyncSession, Depends(_session)]

_SCOPE_VALUES = frozenset(s.value for s in Scope)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# Written once, run on the fast lane: this runs on every request (app.core.queries).
_USER_SQL = Statement(
    "SELECT u.id, u.role, u.organization_id, u.active, u.token_version, "
    "EXISTS (SELECT 1 FROM revoked_access_token r WHERE r.jti = :jti) AS revoked "
    'FROM "user" u WHERE u.id = :sub'
)
_CLIENT_SQL = Statement(
    "SELECT c.id, c.organization_id, c.scopes, c.active, "
    "EXISTS (SELECT 1 FROM revoked_access_token r WHERE r.jti = :jti) AS revoked, "
    "c.token_version "
    "FROM api_client c WHERE c.id = :sub"
)


async def resolve_principal(session: AsyncSession, token: str, ip: str | None) -> Principal:
    """Decode an access token and check its subject is still allowed in."""
    claims = decode_access(token)
    db = await queries(session)
    return principal_from_row(claims, await db.fetchrow(*principal_read(claims)), ip)


def decode_access(token: str) -> dict[str, Any]:
    try:
        return decode_token(token, "access")
    except InvalidToken as e:
        raise InvalidAccessToken("The access token is invalid or expired.") from e


def principal_read(claims: dict[str, Any]) -> tuple[Statement, dict[str, Any]]:
    """The read that checks a decoded token's subject."""
    params = {"sub": claims["sub"], "jti": claims["jti"]}
    return (_CLIENT_SQL if claims.get("kind") == "client" else _USER_SQL), params


def principal_from_row(
    claims: dict[str, Any], row: Sequence[Any] | None, ip: str | None
) -> Principal:
    """The principal, from the token's claims and the row `principal_read` found, or 401."""
    if claims.get("kind") == "client":
        # A token minted before clients' tokens carried a version (no `tv`) is version 0.
        if row is None or not row[3] or row[4] or claims.get("tv", 0) != row[5]:
            raise InvalidAccessToken(
                "The API client is unknown or switched off, or its secret was replaced."
            )
        granted = set(str(claims.get("scope", "")).split()) & set(row_json(row[2]))
        return Principal(
            id=row[0],
            kind=PrincipalKind.client,
            role=Role.clinician,
            organization_id=row[1],
            scopes=frozenset(Scope(g) for g in granted if g in _SCOPE_VALUES),
            jti=claims["jti"],
            exp=claims["exp"],
            ip=ip,
        )
    if row is None or row[5]:
        raise InvalidAccessToken("The session has ended.")
    if not row[3] or claims.get("tv") != row[4]:
        raise InvalidAccessToken("The session has ended.")
    return Principal(
        id=row[0],
        kind=PrincipalKind.user,
        role=Role(row[1]),
        organization_id=row[2],
        jti=claims["jti"],
        exp=claims["exp"],
        ip=ip,
    )


async def optional_principal(request: Request, token: str | None) -> Principal | None:
    """The caller, when the request carries a bearer token (401 when it is not valid).
    Resolved once per request: the Idempotency-Key guard may have asked already."""
    if not token:
        return None
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    principal = await resolve_principal(request.state.session, token, client_ip(request))
    request.state.principal = principal
    return principal


TOKEN_URL = "/api/v1/auth/token"


class Caller(OAuth2PasswordBearer):
    """The calling principal as ONE dependency: the bearer token (declared to OpenAPI as
    the OAuth 2 scheme, being that scheme), the principal it names, and the scope or roles
    the route asks for. FastAPI's dependency solving costs about as much per dependency as
    a fast statement, and this used to be three (token, principal, check) on every route."""

    def __init__(
        self, *, scope: Scope | None = None, roles: tuple[Role, ...] = (), optional: bool = False
    ) -> None:
        super().__init__(tokenUrl=TOKEN_URL, auto_error=False, scheme_name="OAuth2PasswordBearer")
        self.scope = scope  # read by the OpenAPI schema (app/openapi.py)
        self.roles = roles
        self.optional = optional

    # FastAPI calls the scheme with the request; this one answers with the principal.
    async def __call__(self, request: Request) -> Principal | None:  # type: ignore[override]
        p = await optional_principal(request, await super().__call__(request))
        if p is None:
            if self.optional:
                return None
            raise Unauthorized("Send a bearer access token.")
        if self.scope is not None:
            p.require_scope(self.scope)
        if self.roles:
            p.require_role(*self.roles)
        return p


CurrentPrincipal = Annotated[Principal, Depends(Caller())]
# The caller if the request names one (a route that also serves the anonymous).
OptionalPrincipal = Annotated[Principal | None, Depends(Caller(optional=True))]


# Every route takes one of these (never a bare string check): `async def list_cases(p:
# CasesRead, ...)`. Role rules that depend on the resource still apply inside the service.
# Users pass a scope check (their role decides); an API client needs the scope in its token.
UserPrincipal = Annotated[Principal, Depends(Caller(roles=tuple(Role)))]  # a person, no app
CasesRead = Annotated[Principal, Depends(Caller(scope=Scope.cases_read))]
CasesWrite = Annotated[Principal, Depends(Caller(scope=Scope.cases_write))]
RoundsRead = Annotated[Principal, Depends(Caller(scope=Scope.rounds_read))]
RoundsWrite = Annotated[Principal, Depends(Caller(scope=Scope.rounds_write))]
WebhooksManage = Annotated[Principal, Depends(Caller(scope=Scope.webhooks_manage))]
AdminPrincipal = Annotated[Principal, Depends(Caller(roles=(Role.admin,)))]
StaffPrincipal = Annotated[Principal, Depends(Caller(roles=tuple(STAFF)))]
