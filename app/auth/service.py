"""Signing in, token rotation and revocation, user and API-client administration."""

import hmac
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth import leaving, sessions
from app.auth.access import can_create, can_update, visible_users
from app.auth.models import ApiClient, RefreshToken, User
from app.auth.oauth import (
    GRANT_TYPES,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    UnsupportedGrantType,
)
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import new_id
from app.core.emails import ConfusableEmail, normalise_email, safe_email
from app.core.errors import NotFound, RateLimited, Unprocessable
from app.core.pagination import keyset_page
from app.core.principal import Principal, PrincipalKind, Role
from app.core.queries import Statement, queries
from app.core.ratelimit import get_limiter
from app.core.security import (
    InvalidToken,
    create_token,
    decode_token,
    hash_password,
    hash_secret,
    verify_password,
)
from app.organizations.models import Organization


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
    checked = user.password_hash if user else None
    ok = await verify_password(password, checked)
    if not ok or user is None or not user.active:
        raise InvalidGrant("The email or password is wrong, or the account is inactive.")
    # Held and read again, as a refresh is: a new password or a deactivation committed
    # while this one was being checked (a hash takes a while) ends this sign-in too;
    # its session would otherwise have begun after the revocation had chosen its rows.
    await session.refresh(user, with_for_update={"key_share": True})
    if user.password_hash != checked or not user.active:
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
        await sessions.revoke_family(session, row.user_id, row.family_id)
        raise InvalidGrant(
            "This refresh token was already used; the session is ended.",
            code="refresh-token-reused",
        )
    # Her row held to the commit, as every ending of her sessions holds it first
    # (app.auth.sessions): a revocation or a new password arriving now waits for this
    # refresh and then revokes the token it issues; one that came first is seen below.
    user = await session.get(
        User, row.user_id, with_for_update={"key_share": True}, populate_existing=True
    )
    if user is None or not user.active:
        raise InvalidGrant("The account is inactive.")
    # Conditional update: of two concurrent refreshes with one token, only one wins, and a
    # token revoked meanwhile is not renewed.
    res = await session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.id) == row.id,
            col(RefreshToken.used_at).is_(None),
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    if getattr(res, "rowcount", 1) != 1:
        await sessions.revoke_family(session, row.user_id, row.family_id)
        raise InvalidGrant("This refresh token was already used.", code="refresh-token-reused")
    body, new_row = _tokens_for_user(user, row.family_id)
    session.add(new_row)
    return body


async def authenticate_client(session: AsyncSession, client_id: str, secret: str) -> ApiClient:
    """The active API client these credentials name, or 401 invalid_client."""
    client = await session.scalar(select(ApiClient).where(col(ApiClient.client_id) == client_id))
    # An unknown client still costs one comparison: no timing difference tells them apart.
    expected = client.secret_hash if client else hash_secret(secrets.token_hex(8))
    if (
        client is None
        or not client.active
        or not hmac.compare_digest(expected, hash_secret(secret))
    ):
        raise InvalidClient("Unknown client or wrong secret.")
    return client


async def issue_token(
    session: AsyncSession,
    grant_type: str,
    *,
    credentials: tuple[str, str] | None,
    username: str | None,
    password: str | None,
    scope: str | None,
    refresh_token: str | None,
    ip: str | None,
) -> dict[str, Any]:
    """The token endpoint (RFC 6749 §4.3, §4.4, §6): one grant, checked as its section says."""
    if grant_type == "password":
        if not username or not password:
            raise InvalidRequest("username and password are required.")
        return await password_grant(session, username, password, ip)
    if grant_type == "client_credentials":
        if credentials is None:
            raise InvalidClient("Authenticate the client: HTTP Basic or client_id/client_secret.")
        return await client_credentials_grant(session, *credentials, scope)
    if grant_type == "refresh_token":
        if not refresh_token:
            raise InvalidRequest("refresh_token is required.")
        return await refresh_grant(session, refresh_token)
    raise UnsupportedGrantType(f"grant_type must be one of {', '.join(GRANT_TYPES)}.")


async def client_credentials_grant(
    session: AsyncSession, client_id: str, client_secret: str, scope: str | None
) -> dict[str, Any]:
    client = await authenticate_client(session, client_id, client_secret)
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
        tv=client.token_version,
    )
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": s.access_token_minutes * 60,
        "scope": granted,
    }


# --- users -----------------------------------------------------------------------------


async def _check_org(session: AsyncSession, role: Role, org_id: str | None) -> None:
    if role == Role.clinician and not org_id:
        raise Unprocessable(
            "A clinician belongs to a facility.",
            errors=[
                {
                    "pointer": "/organization_id",
                    "detail": "required for clinicians",
                    "code": "missing",
                }
            ],
        )
    if org_id and await session.get(Organization, org_id) is None:
        raise Unprocessable(
            "No such organization.",
            errors=[{"pointer": "/organization_id", "detail": "unknown", "code": "not_found"}],
        )


async def check_new_account(
    session: AsyncSession, role: Role, org_id: str | None, raw_email: str
) -> str:
    """What every new account needs, made now or invited to be made: a clinician's facility,
    a facility that exists, an address that cannot pass for another and that nobody has.
    Returns the address in the one form it is kept in. Each refusal names its field with a
    `code`, so the console says it in the reader's language."""
    await _check_org(session, role, org_id)
    try:
        email = safe_email(raw_email)
    except ConfusableEmail as e:
        raise Unprocessable(
            "This address could pass for another one.",
            code="email-confusable",
            errors=[{"pointer": "/email", "detail": str(e), "code": "confusable"}],
        ) from e
    if await session.scalar(select(col(User.id)).where(col(User.email) == email)):
        raise Unprocessable(
            "A user with this email exists.",
            code="email-taken",
            errors=[{"pointer": "/email", "detail": "already registered", "code": "taken"}],
        )
    return email


async def create_user(session: AsyncSession, actor: Principal | None, data: dict[str, Any]) -> User:
    role = Role(data["role"])
    if actor is not None:
        can_create(actor, role)
    # Every way in (the API, bootstrap, demo, invitations) comes through here.
    email = await check_new_account(session, role, data.get("organization_id"), str(data["email"]))
    user = User(
        email=email,
        name=data["name"],
        role=role.value,
        organization_id=data.get("organization_id"),
        password_hash=await hash_password(data["password"]),
        active=data.get("active", True),
        languages=list(data.get("languages") or []),
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
    # No password here: only the user sets theirs (POST /me/password, or an invitation or
    # reset link); an admin who must stop someone deactivates them.
    role_before = user.role
    for k in ("name", "organization_id", "role", "languages"):
        if k in data:  # null only reaches here as organization_id: no facility (not a clinician)
            setattr(user, k, data[k].value if isinstance(data[k], Role) else data[k])
    deactivated = data.get("active") is False and user.active
    if data.get("active") is not None and data["active"] != user.active:
        user.active = data["active"]
        if not user.active:
            await sessions.end_sessions(session, user)
    user.updated_at = utcnow()
    await session.flush()
    if deactivated or (role_before == Role.specialist.value != user.role):
        why: leaving.Why = "deactivated" if deactivated else "role_changed"
        await leaving.work_released(session, actor, user, why, role_before)
    # What changed (not to what, but for switching on or off: the auditor's question).
    said = [f"active={str(v).lower()}" if k == "active" else k for k, v in sorted(data.items())]
    await audit.append(session, actor, "user.update", "user", user.id, detail=",".join(said))
    return user


async def set_password(
    session: AsyncSession, user: User, password: str, actor: Principal | None = None
) -> None:
    """The user's new password (from a reset link, or their own change): every session
    they had ends, refresh tokens included."""
    user.password_hash = await hash_password(password)
    await sessions.end_sessions(session, user)
    user.updated_at = utcnow()
    await session.flush()
    await audit.append(session, actor, "user.password", "user", user.id)


class WrongPassword(Unprocessable):
    """The current password given is not the user's."""

    code = "wrong-password"


async def change_password(
    session: AsyncSession, p: Principal, current_password: str, new_password: str
) -> None:
    s = get_settings()
    wait = await get_limiter().hit(
        f"pwchange:{p.id}", s.login_attempts_per_account, s.login_window_seconds
    )
    if wait is not None:
        raise RateLimited("Too many attempts; try again later.", headers={"Retry-After": str(wait)})
    user = await session.get(User, p.id)
    if user is None or not await verify_password(current_password, user.password_hash):
        raise WrongPassword(
            "The current password is wrong.",
            errors=[{"pointer": "/current_password", "detail": "does not match"}],
        )
    await set_password(session, user, new_password, p)


_USER: Any = User.__table__  # type: ignore[attr-defined]  # SQLModel types no __table__
# The caller's own row (everyone sees themself): what UserRead shows, on the fast lane.
_ME = Statement(
    select(
        *(
            _USER.c[n]
            for n in ("id", "created_at", "updated_at", "email", "name", "role")
            + ("organization_id", "active", "languages")
        )
    ).where(_USER.c.id == bindparam("me"))
)


async def describe_caller(session: AsyncSession, p: Principal) -> dict[str, Any]:
    """`GET /me`: the signed-in user, or the API client the token was issued to."""
    if p.is_user:
        rows = await (await queries(session)).fetch_dicts(_ME, {"me": p.id})
        if not rows:  # deleted since the token was checked, a moment ago
            raise NotFound("No such user.")
        return rows[0]
    client = await session.get(ApiClient, p.id)
    if client is None:  # deleted since the token was checked, a moment ago
        raise NotFound("No such API client.")
    return {
        "kind": "client",
        "id": client.id,
        "client_id": client.client_id,
        "name": client.name,
        "organization_id": client.organization_id,
        "scopes": sorted(s.value for s in p.scopes),
        "granted_scopes": sorted(client.scopes),
        "active": client.active,
    }
