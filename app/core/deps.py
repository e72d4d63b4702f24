"""Typed dependencies every router uses: the session and the calling principal."""

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import ApiClient, RevokedAccessToken, Role, User
from app.core.db import session_scope
from app.core.errors import Forbidden, Unauthorized
from app.core.principal import Principal
from app.core.security import InvalidToken, decode_token


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    # Delegate with `async with`, not `async for`: an exception thrown in at the yield must
    # reach session_scope's rollback now. Leaving an `async for` by exception would leave
    # the inner generator suspended until garbage collection, so the rollback (and the
    # release of its locks: the Idempotency-Key lock, SQLite's write lock) came late.
    async with contextlib.asynccontextmanager(session_scope)() as s:
        request.state.session = s
        yield s


# scope="function": the commit happens before the response is sent, never after.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# Built once with bound parameters: constructing the statements cost more than running them.
_REVOKED = exists().where(col(RevokedAccessToken.jti) == bindparam("jti"))
_CLIENT_QUERY = select(ApiClient, _REVOKED).where(col(ApiClient.id) == bindparam("sub"))
# Plain columns, not an ORM entity: this runs on every request.
_USER_QUERY = select(
    col(User.id),
    col(User.role),
    col(User.organization_id),
    col(User.active),
    col(User.token_version),
    _REVOKED.label("revoked"),
).where(col(User.id) == bindparam("sub"))


async def resolve_principal(session: AsyncSession, token: str, ip: str | None) -> Principal:
    """Decode an access token and check its subject is still allowed in."""
    try:
        claims = decode_token(token, "access")
    except InvalidToken as e:
        raise Unauthorized("The access token is invalid or expired.") from e
    params = {"sub": claims["sub"], "jti": claims["jti"]}
    if claims.get("kind") == "client":
        row = (await session.execute(_CLIENT_QUERY, params)).first()
        if row is None or not row[0].active or row[1]:
            raise Unauthorized("The API client is unknown or disabled.")
        cl: ApiClient = row[0]
        granted = set(str(claims.get("scope", "")).split()) & set(cl.scopes)
        return Principal(
            id=cl.id,
            kind="client",
            role=Role.clinician,
            organization_id=cl.organization_id,
            scopes=frozenset(granted),
            jti=claims["jti"],
            exp=claims["exp"],
            ip=ip,
        )
    user = (await session.execute(_USER_QUERY, params)).first()
    if user is None or user.revoked:
        raise Unauthorized("The session has ended.")
    if not user.active or claims.get("tv") != user.token_version:
        raise Unauthorized("The session has ended.")
    return Principal(
        id=user.id,
        kind="user",
        role=Role(user.role),
        organization_id=user.organization_id,
        jti=claims["jti"],
        exp=claims["exp"],
        ip=ip,
    )


async def current_principal(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized("Send a bearer access token.")
    principal = await resolve_principal(session, token, client_ip(request))
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[..., Any]:
    async def dep(p: CurrentPrincipal) -> Principal:
        if p.kind != "user" or p.role not in roles:
            raise Forbidden("Your role may not do this.")
        return p

    return dep


def require_scope(scope: str) -> Callable[..., Any]:
    """Users pass (their role decides); an API client needs the scope in its token."""

    async def dep(p: CurrentPrincipal) -> Principal:
        if not p.has_scope(scope):
            raise Forbidden(f"This API client lacks the scope {scope}.", code="insufficient-scope")
        return p

    return dep


# Take one of these instead of CurrentPrincipal on any route an API client may call:
# `async def list_cases(p: CasesRead, ...)`. The role rules still apply inside the service.
CasesRead = Annotated[Principal, Depends(require_scope("cases:read"))]
CasesWrite = Annotated[Principal, Depends(require_scope("cases:write"))]
RoundsRead = Annotated[Principal, Depends(require_scope("rounds:read"))]
RoundsWrite = Annotated[Principal, Depends(require_scope("rounds:write"))]
WebhooksManage = Annotated[Principal, Depends(require_scope("webhooks:manage"))]


AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.admin))]
StaffPrincipal = Annotated[Principal, Depends(require_roles(Role.admin, Role.coordinator))]
