"""Invitations and password resets by emailed link: single use, expiring, stored hashed.

The token in a link is HMAC(SECRET_KEY, purpose:id:salt): the database holds its hash and
the salt, the sender derives the token again to write the email, and nobody who reads the
database alone can rebuild a link. A reset never says whether an email is registered."""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.auth import service as auth
from app.auth.access import can_create, may_invite
from app.auth.models import User
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import take_turns
from app.core.errors import NotFound
from app.core.pagination import decode_cursor, encode_cursor
from app.core.principal import Principal, Role
from app.core.security import hash_secret
from app.notifications.errors import InvitationWaiting, LinkExpired, UnknownLink
from app.notifications.kinds import AccountMail, Channel
from app.notifications.models import AccountToken, AccountTokenPurpose
from app.notifications.service import new_delivery, wake_after_commit
from app.organizations.models import Organization

# At most this many reset links per account per hour; further requests are quietly ignored.
RESETS_PER_HOUR = 3
_CURSOR = "account_token.invitation"  # the pending invitations list pages by id


def derive(purpose: str, row_id: str, salt: str) -> str:
    key = get_settings().secret_key.encode()
    mac = hmac.new(key, f"{purpose}:{row_id}:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def token_of(row: AccountToken) -> str:
    return derive(row.purpose, row.id, row.salt)


def _new(purpose: AccountTokenPurpose, ttl: timedelta, **fields: object) -> AccountToken:
    now = utcnow()
    row = AccountToken(
        purpose=purpose.value,
        token_hash="",
        salt=secrets.token_hex(16),
        created_at=now,
        expires_at=now + ttl,
        **fields,  # type: ignore[arg-type]
    )
    row.token_hash = hash_secret(token_of(row))
    return row


def _pending(now: datetime) -> ColumnElement[bool]:
    """Invitations not yet accepted (nor withdrawn) and still valid."""
    return (
        (col(AccountToken.purpose) == AccountTokenPurpose.invitation.value)
        & col(AccountToken.used_at).is_(None)
        & (col(AccountToken.expires_at) > now)
    )


async def _withdraw(session: AsyncSession, where: ColumnElement[bool]) -> int:
    """Spend the pending invitations `where` picks: their links say "used or expired"."""
    now = utcnow()
    res = await session.execute(
        update(AccountToken)
        .where(_pending(now), where)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(res, "rowcount", 0))


async def invite(
    session: AsyncSession, actor: Principal, email: str, role: Role, organization_id: str | None
) -> AccountToken:
    can_create(actor, role)
    # The account is made when she accepts: refuse now what would be refused then.
    email = await auth.check_new_account(session, role, organization_id, email)
    # Two invitations to one address at once would each withdraw nothing and both stay
    # live: they take turns.
    await take_turns(session, email)
    # Inviting her again (the mail was lost, the role was wrong) sends the one link that
    # works: the one sent before stops working. Not one sent for a role she may not send:
    # that is not hers to take back (a coordinator re-inviting an admin's invitee).
    waiting = await session.scalars(
        select(col(AccountToken.role)).where(_pending(utcnow()), col(AccountToken.email) == email)
    )
    if any(not may_invite(actor, Role(r)) for r in waiting if r):
        raise InvitationWaiting(
            "An invitation to this address, for a role you may not send, is waiting for an "
            "answer: ask an administrator."
        )
    await _withdraw(session, col(AccountToken.email) == email)
    row = _new(
        AccountTokenPurpose.invitation,
        timedelta(days=get_settings().invitation_valid_days),
        email=email,
        role=role.value,
        organization_id=organization_id,
        created_by_id=actor.id,
    )
    session.add(row)
    session.add(
        new_delivery(
            Channel.email,
            AccountMail.invitation.value,
            address=email,
            context={"account_token_id": row.id},
        )
    )
    await session.flush()
    await audit.append(session, actor, "invitation.create", "invitation", row.id, detail=role.value)
    wake_after_commit(session)
    return row


async def pending_invitations(
    session: AsyncSession, actor: Principal, limit: int, cursor: str | None
) -> tuple[list[AccountToken], str | None]:
    """Invitations still waiting for an answer, newest first (staff: the router's rule)."""
    stmt = select(AccountToken).where(_pending(utcnow()))
    if cursor:
        stmt = stmt.where(col(AccountToken.id) < decode_cursor(cursor, _CURSOR))
    rows = list(
        (await session.scalars(stmt.order_by(col(AccountToken.id).desc()).limit(limit + 1))).all()
    )
    nxt = encode_cursor(rows[limit - 1].id, _CURSOR) if len(rows) > limit else None
    return rows[:limit], nxt


async def withdraw(session: AsyncSession, actor: Principal, invitation_id: str) -> None:
    """Take back an invitation not yet answered: its link stops working (404 for one that
    is not pending: accepted, withdrawn, expired or unknown)."""
    row = await session.scalar(
        select(AccountToken).where(_pending(utcnow()), col(AccountToken.id) == invitation_id)
    )
    if row is None:
        raise NotFound("No invitation waiting for an answer with this id.")
    assert row.role is not None  # an invitation names the role it offers
    can_create(actor, Role(row.role))  # who may invite to a role may take it back
    if not await _withdraw(session, col(AccountToken.id) == row.id):
        raise NotFound("No invitation waiting for an answer with this id.")
    await audit.append(session, actor, "invitation.withdraw", "invitation", row.id)


async def mail_facts(session: AsyncSession, row: AccountToken) -> dict[str, Any]:
    """What the email about this link may say: the role and when the link expires, and for
    an invitation who sent it and to which facility, by name (left out when gone)."""
    out: dict[str, Any] = {"role": row.role, "deadline": row.expires_at}
    if row.purpose == AccountTokenPurpose.invitation.value:
        inviter = await session.get(User, row.created_by_id) if row.created_by_id else None
        org = await session.get(Organization, row.organization_id) if row.organization_id else None
        out["inviter"] = inviter.name if inviter else None
        out["organization"] = org.name if org else None
    return out


async def _take(session: AsyncSession, token: str, purpose: AccountTokenPurpose) -> AccountToken:
    """The link's row, spent in this transaction: a second use (even a concurrent one) is
    refused."""
    row = await session.scalar(
        select(AccountToken).where(
            col(AccountToken.token_hash) == hash_secret(token),
            col(AccountToken.purpose) == purpose.value,
        )
    )
    if row is None:
        raise UnknownLink("This link is not known.")
    now = utcnow()
    if row.used_at is not None or row.expires_at <= now:
        raise LinkExpired("This link was used already or has expired; ask for a new one.")
    res = await session.execute(
        update(AccountToken)
        .where(col(AccountToken.id) == row.id, col(AccountToken.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(res, "rowcount", 1) != 1:
        raise LinkExpired("This link was used already.")
    return row


async def accept(session: AsyncSession, token: str, name: str, password: str) -> User:
    row = await _take(session, token, AccountTokenPurpose.invitation)
    user = await auth.create_user(
        session,
        None,
        {
            "email": row.email,
            "name": name,
            "role": row.role,
            "organization_id": row.organization_id,
            "password": password,
        },
    )
    await audit.append(session, None, "invitation.accept", "invitation", row.id, detail=user.id)
    return user


async def request_reset(session: AsyncSession, email: str) -> None:
    """Email a reset link if the address belongs to an active user; the same (silent)
    answer either way."""
    email = email.strip().lower()
    user = await session.scalar(select(User).where(col(User.email) == email))
    if user is None or not user.active:
        return
    # Requests for one address at once take turns, each counting the links sent before
    # it: counted side by side, a burst of them all passed the hourly limit.
    await take_turns(session, f"reset:{user.id}")
    now = utcnow()
    recent = await session.scalar(
        select(func.count())
        .select_from(AccountToken)
        .where(
            col(AccountToken.user_id) == user.id,
            col(AccountToken.purpose) == AccountTokenPurpose.password_reset.value,
            col(AccountToken.created_at) > now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= RESETS_PER_HOUR:
        return
    row = _new(
        AccountTokenPurpose.password_reset,
        timedelta(minutes=get_settings().password_reset_valid_minutes),
        email=email,
        user_id=user.id,
    )
    session.add(row)
    session.add(
        new_delivery(
            Channel.email,
            AccountMail.password_reset.value,
            user_id=user.id,
            address=user.email,
            context={"account_token_id": row.id},
        )
    )
    await session.flush()
    await audit.append(session, None, "password_reset.request", "user", user.id)
    wake_after_commit(session)


async def reset(session: AsyncSession, token: str, password: str) -> None:
    row = await _take(session, token, AccountTokenPurpose.password_reset)
    user = await session.get(User, row.user_id) if row.user_id else None
    if user is None or not user.active:
        raise LinkExpired("This link can no longer be used.")
    await auth.set_password(session, user, password)
