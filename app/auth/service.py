"""Signing in, token rotation and revocation, user and API-client administration."""

import hmac
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth.access import can_create, can_update, visible_users
from app.auth.models import SCOPES, ApiClient, RefreshToken, RevokedAccessToken, User
from app.auth.ratelimit import get_limiter
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import new_id
from app.core.emails import ConfusableEmail, normalise_email, safe_email
from app.core.errors import AppError, NotFound, RateLimited, Unprocessable
from app.core.pagination import keyset_page
from app.core.principal import Principal, PrincipalKind, Role
from app.core.security import (
    InvalidToken,
    create_token,
    decode_token,
    hash_password,
    hash_secret,
    new_secret,
    verify_password,
)
from app.organizations.models import Organization


class InvalidGrant(AppError):
    """The credentials or the grant are not valid (OAuth2 invalid_grant)."""

    status, code, title = 400, "invalid-grant", "Invalid grant"


class InvalidClient(AppError):
    """Unknown client or wrong secret (OAuth2 invalid_client)."""

    status, code, title = 401, "invalid-client", "Invalid client"


class InvalidScope(AppError):
    """A requested scope was not granted to this client."""

    status, code, title = 400, "invalid-scope", "Invalid scope"


def _tokens_for_user(user: User, family_id: str) -> tuple[dict[str, Any], RefreshToken]:
    s = get_settings()
    access, _ = create_token(
        user.id,
        "access",
        timedelta(minutes=s.access_token_minutes),
        tv=user.token_version,
        role=user.role,
    )
    refresh, rjti = create_token(
        user.id, "refresh", timedelta(days=s.refresh_token_days), fam=family_id
    )
    row = RefreshToken(
        family_id=family_id,
        user_id=user.id,
        token_hash=hash_secret(rjti),
        expires_at=utcnow() + timedelta(days=s.refresh_token_days),
    )
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": s.access_token_minutes * 60,
        "refresh_token": refresh,
    }, row


async def _count_attempt(email: str, ip: str | None) -> list[str]:
    """Count a sign-in attempt before its password is checked (so parallel guesses cannot
    pass the limit together), or 429. Only failures stay counted (`_signed_in` takes a
    success back), and only this account from this address is held back by its own
    failures: where the person signed in before, a stranger's failures from elsewhere
    (one account from many addresses, many accounts from one shared address) do not hold
    them back. The keys counted are returned for `_signed_in`."""
    s = get_settings()
    limiter = get_limiter()
    pair = f"{email}|{ip}"
    checks = [(f"pair:{pair}", s.login_attempts_per_account)]
    if not await limiter.known(pair):
        checks += [
            (f"acct:{email}", s.login_attempts_per_account_total),
            (f"addr:{ip}", s.login_attempts_per_address),
        ]
    counted: list[str] = []
    for key, limit in checks:
        wait = await limiter.hit(key, limit, s.login_window_seconds)
        if wait is not None:
            for done in counted:  # refused unchecked: not an attempt that failed
                await limiter.undo(done)
            raise RateLimited(
                "Too many sign-in attempts; try again later.", headers={"Retry-After": str(wait)}
            )
        counted.append(key)
    return counted


async def _signed_in(email: str, ip: str | None, counted: list[str]) -> None:
    s = get_settings()
    limiter = get_limiter()
    for key in counted:
        await limiter.undo(key)
    await limiter.reset(f"pair:{email}|{ip}")
    await limiter.remember(f"{email}|{ip}", s.login_known_address_days * 86400)


async def password_grant(
    session: AsyncSession, email: str, password: str, ip: str | None
) -> dict[str, Any]:
    email = normalise_email(email)
    counted = await _count_attempt(email, ip)
    user = await session.scalar(select(User).where(col(User.email) == email))
    # An unknown email still costs one full hash: no timing difference tells them apart.
    ok = await verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.active:
        raise InvalidGrant("The email or password is wrong, or the account is inactive.")
    await _signed_in(email, ip, counted)
    body, row = _tokens_for_user(user, new_id("fam"))
    session.add(row)
    return body


async def refresh_grant(session: AsyncSession, token: str) -> dict[str, Any]:
    try:
        claims = decode_token(token, "refresh")
    except InvalidToken as e:
        raise InvalidGrant("The refresh token is invalid or expired.") from e
    row = await session.scalar(
        select(RefreshToken).where(col(RefreshToken.token_hash) == hash_secret(claims["jti"]))
    )
    if row is None:
        raise InvalidGrant("Unknown refresh token.")
    if row.used_at is not None or row.revoked_at is not None:
        # A spent token came back: someone holds a copy. End the whole family.
        await revoke_family(session, row.family_id)
        raise InvalidGrant(
            "This refresh token was already used; the session is ended.",
            code="refresh-token-reused",
        )
    user = await session.get(User, row.user_id)
    if user is None or not user.active:
        raise InvalidGrant("The account is inactive.")
    # Conditional update: of two concurrent refreshes with one token, only one wins.
    res = await session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.id) == row.id,
            col(RefreshToken.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    if getattr(res, "rowcount", 1) != 1:
        await revoke_family(session, row.family_id)
        raise InvalidGrant("This refresh token was already used.", code="refresh-token-reused")
    body, new_row = _tokens_for_user(user, row.family_id)
    session.add(new_row)
    return body


async def client_credentials_grant(
    session: AsyncSession, client_id: str, client_secret: str, scope: str | None
) -> dict[str, Any]:
    client = await session.scalar(select(ApiClient).where(col(ApiClient.client_id) == client_id))
    expected = client.secret_hash if client else hash_secret(secrets.token_hex(8))
    if (
        client is None
        or not client.active
        or not hmac.compare_digest(expected, hash_secret(client_secret))
    ):
        raise InvalidClient(
            "Unknown client or wrong secret.", headers={"WWW-Authenticate": "Basic"}
        )
    wanted = set(scope.split()) if scope else set(client.scopes)
    if not wanted <= set(client.scopes):
        raise InvalidScope(f"Not granted: {' '.join(sorted(wanted - set(client.scopes)))}")
    s = get_settings()
    granted = " ".join(sorted(wanted))
    access, _ = create_token(
        client.id,
        "access",
        timedelta(minutes=s.access_token_minutes),
        kind=PrincipalKind.client.value,
        scope=granted,
    )
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": s.access_token_minutes * 60,
        "scope": granted,
    }


async def revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.family_id) == family_id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
    # Persist the revocation even though the caller's request fails.
    await session.commit()


async def revoke(session: AsyncSession, token: str) -> None:
    """RFC 7009: revoke a refresh token (its family) or an access token; unknown is fine."""
    try:
        claims = decode_token(token, "refresh")
        row = await session.scalar(
            select(RefreshToken).where(col(RefreshToken.token_hash) == hash_secret(claims["jti"]))
        )
        if row is not None:
            await revoke_family(session, row.family_id)
        return
    except InvalidToken:
        pass
    try:
        claims = decode_token(token, "access")
    except InvalidToken:
        return
    from datetime import UTC, datetime

    if await session.get(RevokedAccessToken, claims["jti"]) is None:
        session.add(
            RevokedAccessToken(
                jti=claims["jti"], expires_at=datetime.fromtimestamp(claims["exp"], UTC)
            )
        )


async def end_sessions(session: AsyncSession, user: User) -> None:
    """Every token the user holds stops working: access tokens by version, refresh by revocation."""
    user.token_version += 1
    await session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.user_id) == user.id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )


# --- users -----------------------------------------------------------------------------


async def _check_org(session: AsyncSession, role: Role, org_id: str | None) -> None:
    if role == Role.clinician and not org_id:
        raise Unprocessable(
            "A clinician belongs to a facility.",
            errors=[{"pointer": "/organization_id", "detail": "required"}],
        )
    if org_id and await session.get(Organization, org_id) is None:
        raise Unprocessable(
            "No such organization.", errors=[{"pointer": "/organization_id", "detail": "unknown"}]
        )


async def create_user(session: AsyncSession, actor: Principal | None, data: dict[str, Any]) -> User:
    role = Role(data["role"])
    if actor is not None:
        can_create(actor, role)
    await _check_org(session, role, data.get("organization_id"))
    try:  # every way in (the API, bootstrap, demo, invitations) comes through here
        email = safe_email(str(data["email"]))
    except ConfusableEmail as e:
        raise Unprocessable(
            "This address could pass for another one.",
            code="email-confusable",
            errors=[{"pointer": "/email", "detail": str(e)}],
        ) from e
    if await session.scalar(select(col(User.id)).where(col(User.email) == email)):
        raise Unprocessable(
            "A user with this email exists.",
            code="email-taken",
            errors=[{"pointer": "/email", "detail": "already registered"}],
        )
    user = User(
        email=email,
        name=data["name"],
        role=role.value,
        organization_id=data.get("organization_id"),
        password_hash=await hash_password(data["password"]),
        active=data.get("active", True),
    )
    session.add(user)
    await session.flush()
    return user


async def list_users(
    session: AsyncSession,
    actor: Principal,
    limit: int,
    cursor: str | None,
    role: Role | None = None,
    organization_id: str | None = None,
) -> tuple[list[User], str | None]:
    stmt = select(User).where(visible_users(actor))
    if role:
        stmt = stmt.where(col(User.role) == role.value)
    if organization_id:
        stmt = stmt.where(col(User.organization_id) == organization_id)
    return await keyset_page(session, stmt, User.id, limit, cursor)


async def get_user(session: AsyncSession, actor: Principal, user_id: str) -> User:
    user = await session.scalar(select(User).where(col(User.id) == user_id, visible_users(actor)))
    if user is None:
        raise NotFound("No such user.")
    return user


async def update_user(
    session: AsyncSession, actor: Principal, user_id: str, data: dict[str, Any]
) -> User:
    user = await get_user(session, actor, user_id)
    can_update(actor, user, set(data))
    if "organization_id" in data or "role" in data:
        await _check_org(
            session,
            Role(data.get("role") or user.role),
            data.get("organization_id", user.organization_id),
        )
    ends_sessions = False
    for k in ("name", "organization_id", "role"):
        if k in data and data[k] is not None:
            setattr(user, k, data[k].value if isinstance(data[k], Role) else data[k])
    if data.get("password"):
        user.password_hash = await hash_password(data["password"])
        ends_sessions = True
    if data.get("active") is not None and data["active"] != user.active:
        user.active = data["active"]
        ends_sessions = ends_sessions or not user.active
    if ends_sessions:
        await end_sessions(session, user)
    user.updated_at = utcnow()
    await session.flush()
    await audit.append(
        session,
        actor,
        "user.update",
        "user",
        user.id,
        detail=",".join(sorted(k for k in data if k != "password"))
        + (",password" if "password" in data else ""),
    )
    return user


# --- API clients --------------------------------------------------------------------------


async def create_api_client(
    session: AsyncSession, actor: Principal, data: dict[str, Any]
) -> tuple[ApiClient, str]:
    bad = [s for s in data["scopes"] if s not in SCOPES]
    if bad:
        raise Unprocessable(
            f"Unknown scope(s): {', '.join(bad)}",
            errors=[{"pointer": "/scopes", "detail": f"allowed: {SCOPES}"}],
        )
    if await session.get(Organization, data["organization_id"]) is None:
        raise Unprocessable(
            "No such organization.", errors=[{"pointer": "/organization_id", "detail": "unknown"}]
        )
    secret = new_secret("cs_")
    client = ApiClient(
        client_id=new_id("ci"),
        secret_hash=hash_secret(secret),
        name=data["name"],
        organization_id=data["organization_id"],
        scopes=sorted(set(data["scopes"])),
    )
    session.add(client)
    await session.flush()
    await audit.append(session, actor, "api_client.create", "api_client", client.id)
    return client, secret


async def list_api_clients(
    session: AsyncSession, limit: int, cursor: str | None
) -> tuple[list[ApiClient], str | None]:
    return await keyset_page(session, select(ApiClient), ApiClient.id, limit, cursor)
