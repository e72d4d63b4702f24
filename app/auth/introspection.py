"""RFC 7662 token introspection: a partner's resource server asks whether a token is live.

The caller is an API client (its own credentials, Basic or form, or its bearer token) or an
admin. A client learns about its own tokens and those of its facility's users; any other
token is answered `{"active": false}`, as RFC 7662 §4 allows, so the endpoint cannot be used
to probe tokens the caller has no business with.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import ApiClient, RefreshToken, User
from app.auth.oauth import InvalidClient
from app.auth.service import authenticate_client
from app.core.clock import clock
from app.core.deps import resolve_principal
from app.core.errors import AppError
from app.core.principal import Principal, Role, RoleForbidden
from app.core.security import InvalidToken, decode_token, hash_secret

INACTIVE: dict[str, Any] = {"active": False}


async def introspect(
    session: AsyncSession,
    credentials: tuple[str, str] | None,
    bearer: Principal | None,
    token: str,
    hint: str | None,
) -> dict[str, Any]:
    caller_org: str | None
    if credentials is not None:
        client = await authenticate_client(session, *credentials)
        caller_id, caller_org, sees_all = client.id, client.organization_id, False
    elif bearer is not None and bearer.is_client:
        caller_id, caller_org, sees_all = bearer.id, bearer.organization_id, False
    elif bearer is not None:
        if bearer.role is not Role.admin:
            raise RoleForbidden("Only API clients and admins introspect tokens.")
        caller_id, caller_org, sees_all = bearer.id, None, True
    else:
        raise InvalidClient("Authenticate as the API client asking (Basic or a bearer token).")

    # The hint only orders the attempts (RFC 7662 §2.1); both kinds are always tried.
    kinds = ["refresh", "access"] if hint == "refresh_token" else ["access", "refresh"]
    for kind in kinds:
        answer = await (_access(session, token) if kind == "access" else _refresh(session, token))
        if answer is None:
            continue
        subject_org = answer.pop("_org")
        if sees_all or answer["sub"] == caller_id or (caller_org and subject_org == caller_org):
            return answer
        return dict(INACTIVE)
    return dict(INACTIVE)


def _claims_part(claims: dict[str, Any], token_type: str) -> dict[str, Any]:
    return {
        "active": True,
        "token_type": token_type,
        "sub": claims["sub"],
        "exp": claims["exp"],
        "iat": claims["iat"],
        "iss": claims["iss"],
        "aud": claims["aud"],
        "jti": claims["jti"],
    }


async def _access(session: AsyncSession, token: str) -> dict[str, Any] | None:
    try:
        decode_token(token, "access")
        # The same check every request makes: subject active, token not revoked or outdated.
        p = await resolve_principal(session, token, None)
    except (InvalidToken, AppError):
        return None
    claims = decode_token(token, "access")
    answer = _claims_part(claims, "access_token")
    if p.is_client:
        client = await session.get(ApiClient, p.id)
        answer["client_id"] = client.client_id if client else None
        answer["scope"] = " ".join(sorted(s.value for s in p.scopes))
        answer["principal_kind"] = p.kind.value
    else:
        answer["principal_kind"] = p.kind.value
        answer["role"] = p.role.value
    answer["organization_id"] = p.organization_id
    answer["_org"] = p.organization_id
    return answer


async def _refresh(session: AsyncSession, token: str) -> dict[str, Any] | None:
    try:
        claims = decode_token(token, "refresh")
    except InvalidToken:
        return None
    row = await session.scalar(
        select(RefreshToken).where(col(RefreshToken.token_hash) == hash_secret(claims["jti"]))
    )
    if row is None or row.used_at is not None or row.revoked_at is not None:
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.active or claims["exp"] < clock.wall():
        return None
    answer = _claims_part(claims, "refresh_token")
    answer.update(principal_kind="user", role=user.role, organization_id=user.organization_id)
    answer["_org"] = user.organization_id
    return answer
