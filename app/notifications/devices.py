"""Where a user can be reached besides email: Web Push subscriptions and a verified phone."""

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.errors import NotFound, Unprocessable
from app.core.principal import Principal
from app.core.security import hash_secret
from app.notifications.errors import InvalidCode, NoSmsGateway
from app.notifications.kinds import AccountMail, Channel
from app.notifications.models import NotificationSetting, PushSubscription
from app.notifications.preferences import setting_for_update
from app.notifications.service import new_delivery, wake_after_commit
from app.partners.urls import UnsafeWebhookUrl, check_url

CODE_MINUTES = 10
CODE_ATTEMPTS = 5


def _endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


async def subscribe(
    session: AsyncSession, p: Principal, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Register a browser's subscription; the same endpoint again is the same one (moved
    to this user if another user of that browser held it)."""
    try:
        await check_url(endpoint, get_settings().webhook_allow_private)
    except UnsafeWebhookUrl as e:
        # The same refusal, pointed at this body's field (its `code` kept: said in her words).
        said = [{**x, "pointer": "/endpoint"} for x in e.errors or []]
        raise Unprocessable(
            e.detail, errors=said or [{"pointer": "/endpoint", "detail": e.detail}]
        ) from e
    for name, value in (("p256dh", p256dh), ("auth", auth)):
        try:
            base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except ValueError as e:
            raise Unprocessable(
                "Keys must be base64url.",
                errors=[{"pointer": f"/keys/{name}", "detail": "not base64url"}],
            ) from e
    h = _endpoint_hash(endpoint)
    sub = await session.scalar(
        select(PushSubscription).where(col(PushSubscription.endpoint_hash) == h)
    )
    now = utcnow()
    if sub is None:
        sub = PushSubscription(
            user_id=p.id, endpoint=endpoint, endpoint_hash=h, p256dh=p256dh, auth=auth
        )
        session.add(sub)
    else:
        sub.user_id, sub.p256dh, sub.auth, sub.updated_at = p.id, p256dh, auth, now
    await session.flush()
    return sub


async def unsubscribe(session: AsyncSession, p: Principal, subscription_id: str) -> None:
    sub = await session.get(PushSubscription, subscription_id)
    if sub is None or sub.user_id != p.id:
        raise NotFound("No such push subscription.")
    await session.delete(sub)


def phone_code(user_id: str, salt: str) -> str:
    """Six digits derived from SECRET_KEY: the database keeps only their hash."""
    key = get_settings().secret_key.encode()
    mac = hmac.new(key, f"phone:{user_id}:{salt}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:6], 'big') % 1_000_000:06d}"


def _e164(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as e:
        raise Unprocessable(
            "Give the number in E.164 form (+<country code><number>).",
            errors=[{"pointer": "/phone", "detail": "not an E.164 number"}],
        ) from e
    if not phonenumbers.is_valid_number(parsed):
        raise Unprocessable(
            "This is not a valid phone number.",
            errors=[{"pointer": "/phone", "detail": "not a valid number"}],
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


async def set_phone(session: AsyncSession, p: Principal, number: str) -> NotificationSetting:
    """Store the number unverified and send it a code (by the worker, through the gateway)."""
    if not get_settings().sms_gateway_url:
        raise NoSmsGateway("This deployment sends no SMS, so a phone cannot be verified.")
    phone = _e164(number)
    s = await setting_for_update(session, p.id)
    salt = secrets.token_hex(16)
    s.phone, s.phone_verified_at = phone, None
    s.phone_code_hash = hash_secret(phone_code(p.id, salt))
    s.phone_code_expires_at = utcnow() + timedelta(minutes=CODE_MINUTES)
    s.phone_code_attempts = 0
    s.updated_at = utcnow()
    session.add(
        new_delivery(
            Channel.sms,
            AccountMail.phone_code.value,
            user_id=p.id,
            address=phone,
            context={"salt": salt},
        )
    )
    await session.flush()
    await audit.append(session, p, "phone.set", "user", p.id)
    wake_after_commit(session)
    return s


async def verify_phone(session: AsyncSession, p: Principal, code: str) -> NotificationSetting:
    # Held to the commit: guesses sent together are counted one after the other, each
    # against the wrong ones before it (read unheld, a burst counted as one wrong code).
    s = await session.get(NotificationSetting, p.id, with_for_update={"key_share": True})
    now = utcnow()
    if s is None or not s.phone or s.phone_code_hash is None:
        raise InvalidCode("No phone is waiting for verification.")
    if s.phone_code_expires_at is None or s.phone_code_expires_at <= now:
        raise InvalidCode("The code has expired; set the phone again for a new one.")
    if s.phone_code_attempts >= CODE_ATTEMPTS:
        raise InvalidCode("Too many wrong codes; set the phone again for a new one.")
    if not hmac.compare_digest(hash_secret(code.strip()), s.phone_code_hash):
        s.phone_code_attempts += 1
        # The failed attempt counts even though the request fails.
        await session.commit()
        raise InvalidCode(
            "The code is wrong.", errors=[{"pointer": "/code", "detail": "does not match"}]
        )
    s.phone_verified_at = s.updated_at = now
    s.phone_code_hash = s.phone_code_expires_at = None
    await session.flush()
    await audit.append(session, p, "phone.verify", "user", p.id)
    return s
