"""How a user's or an app's sessions end: a refresh family revoked (RFC 7009), an access
token revoked, every session of a user ended (a new password, a deactivation). Each holds
the user's row first, as a refresh and a password sign-in do (app.auth.service), so none of
them runs beside another: what one issues, the other sees."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import RefreshToken, RevokedAccessToken, User
from app.core.clock import utcnow
from app.core.principal import PrincipalKind
from app.core.security import InvalidToken, decode_token, hash_secret
from app.events import service as events
from app.events.models import SESSION_ENDED


async def hold_user(session: AsyncSession, user_id: str) -> int | None:
    """Hold the user's row to the commit and read her token version as committed. A refresh
    holds the same row (`refresh_grant`), so an ending of her sessions never runs beside one:
    revoked while it was under way, the token it issued would have been missed."""
    # FOR NO KEY UPDATE: endings and refreshes wait for each other, while rows that only
    # refer to her (a case she accepts, a participant) are still written beside it; a full
    # FOR UPDATE made her deactivation and her own accept wait on each other.
    return await session.scalar(
        select(col(User.token_version))
        .where(col(User.id) == user_id)
        .with_for_update(key_share=True)
    )


async def revoke_family(session: AsyncSession, user_id: str, family_id: str) -> None:
    await hold_user(session, user_id)
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
            await revoke_family(session, row.user_id, row.family_id)
        return
    except InvalidToken:
        pass
    try:
        claims = decode_token(token, "access")
    except InvalidToken:
        return
    if await session.get(RevokedAccessToken, claims["jti"]) is None:
        session.add(
            RevokedAccessToken(
                jti=claims["jti"], expires_at=datetime.fromtimestamp(claims["exp"], UTC)
            )
        )
        await sessions_ended(session, claims)


async def sessions_ended(session: AsyncSession, claims: dict[str, Any]) -> None:
    """Tell every process, once this commits, that tokens of this subject were revoked: its
    open sockets check theirs again before their next frame (app/realtime/hub.py)."""
    client = claims.get("kind") == PrincipalKind.client.value
    await events.emit(
        session, SESSION_ENDED, "api_client" if client else "user", str(claims["sub"])
    )


async def end_sessions(session: AsyncSession, user: User) -> None:
    """Every token the user holds stops working: access tokens by version, refresh by revocation."""
    # From the version as committed, her row held: two endings at once bump it twice.
    user.token_version = (await hold_user(session, user.id) or 0) + 1
    await sessions_ended(session, {"sub": user.id})
    await session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.user_id) == user.id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
