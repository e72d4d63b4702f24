"""Telling a user something: the in-app notification and, per their preferences, one
delivery per outside channel, all in the caller's transaction (the outbox). The worker
sends the deliveries (app.notifications.sender); nothing here leaves the process."""

import asyncio
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from sqlalchemy import event, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import new_id
from app.core.errors import NotFound
from app.core.pagination import keyset_page
from app.core.principal import Principal, Role
from app.core.queries import Statement, queries
from app.events.service import emit
from app.notifications import content
from app.notifications.kinds import OUTSIDE, Channel, Kind
from app.notifications.models import Delivery, DeliveryStatus, Notification, PushSubscription
from app.notifications.preferences import Recipient, recipient

# Set after a commit that wrote deliveries: the app's sender loop wakes at once.
wake = asyncio.Event()
_HOOKED = "notifications_wake_hook"
_PENDING = "notifications_pending"


def _after_commit(sync_session: Session) -> None:
    if sync_session.info.pop(_PENDING, False):
        wake.set()


def wake_after_commit(session: AsyncSession) -> None:
    """Wake the sender when (and only if) this transaction commits."""
    info = session.sync_session.info
    info[_PENDING] = True
    if not info.get(_HOOKED):
        event.listen(session.sync_session, "after_commit", _after_commit)
        event.listen(session.sync_session, "after_rollback", lambda s: s.info.pop(_PENDING, None))
        info[_HOOKED] = True


def message_id(delivery_id: str) -> str:
    """The email's Message-ID, fixed when the delivery is written: every retry reuses it."""
    domain = parseaddr(get_settings().mail_from)[1].rpartition("@")[2] or "consult.localhost"
    return f"<{delivery_id}@{domain}>"


def new_delivery(
    channel: Channel | str,
    template: str,
    *,
    notification_id: str | None = None,
    user_id: str | None = None,
    address: str | None = None,
    context: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Delivery:
    d = Delivery(
        notification_id=notification_id,
        user_id=user_id,
        channel=str(channel),
        template=template,
        address=address,
        context=context or {},
        message_id="",
        next_attempt_at=at or utcnow(),
    )
    d.message_id = message_id(d.id)
    return d


async def _has_push(session: AsyncSession, user_id: str) -> bool:
    if not get_settings().vapid_private_key:
        return False
    return bool(
        await session.scalar(select(exists().where(col(PushSubscription.user_id) == user_id)))
    )


async def _deliveries(
    session: AsyncSession, r: Recipient, kind: Kind, n: Notification, now: datetime
) -> list[Delivery]:
    if r.user.role == Role.specialist.value and r.time_off:
        return []  # nothing to a specialist on time off
    later = None if n.urgent else r.quiet_until(now)
    out = []
    for ch in sorted(r.channels(kind) & set(OUTSIDE)):
        address: str | None = None
        if ch == Channel.email:
            address = r.user.email
        elif ch == Channel.sms:
            if not r.phone or not get_settings().sms_gateway_url:
                continue
            address = r.phone
        elif not await _has_push(session, r.user.id):
            continue
        d_id = new_id("dlv")
        out.append(
            Delivery.model_construct(
                id=d_id,
                notification_id=n.id,
                user_id=r.user.id,
                channel=str(ch),
                template=kind.value,
                address=address,
                context={},
                message_id=message_id(d_id),
                status=DeliveryStatus.pending.value,
                attempts=0,
                next_attempt_at=later or now,
                lease_until=None,
                sent_at=None,
                last_error=None,
                created_at=now,
                updated_at=now,
            )
        )
    return out


# The notification, and then its deliveries in one statement, on the fast lane
# (app.core.queries): no ORM flush on the path of every offer. A `dedupe_key` told
# already (here or by a concurrent transaction) inserts nothing and returns no row.
_N_COLUMNS = (
    "id user_id kind subject link data case_id urgent dedupe_key read_at created_at updated_at"
).split()
_INSERT_N = Statement(
    Statement.insert("notification", _N_COLUMNS).clause.text  # type: ignore[attr-defined]
    + " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)
_D_COLUMNS = (
    "id notification_id user_id channel template address context message_id status attempts "
    "next_attempt_at lease_until sent_at last_error created_at updated_at"
).split()
_insert_d: dict[int, Statement] = {}


def _insert_deliveries(count: int) -> Statement:
    """One INSERT of `count` deliveries (parameters `<column>_<i>`), built once per count."""
    found = _insert_d.get(count)
    if found is None:
        names = ", ".join(f'"{c}"' for c in _D_COLUMNS)
        rows = ", ".join(
            "(" + ", ".join(f":{c}_{i}" for c in _D_COLUMNS) + ")" for i in range(count)
        )
        found = _insert_d[count] = Statement(
            f'INSERT INTO "notification_delivery" ({names}) VALUES {rows}'
        )
    return found


async def _write(session: AsyncSession, n: Notification, deliveries: list[Delivery]) -> bool:
    """False when the notification's dedupe_key was told already (then nothing is written)."""
    db = await queries(session)
    values = {c: getattr(n, c) for c in _N_COLUMNS}
    values.update(
        data=db.json(n.data),
        read_at=None,
        created_at=db.ts(n.created_at),
        updated_at=db.ts(n.updated_at),
    )
    if await db.fetchrow(_INSERT_N, values) is None:
        return False
    if deliveries:
        params: dict[str, Any] = {}
        for i, d in enumerate(deliveries):
            for c in _D_COLUMNS:
                v = getattr(d, c)
                if c == "context":
                    v = db.json(v)
                elif isinstance(v, datetime):
                    v = db.ts(v)
                params[f"{c}_{i}"] = v
        await db.execute(_insert_deliveries(len(deliveries)), params)
    return True


async def notify(
    session: AsyncSession,
    user_id: str,
    kind: Kind,
    *,
    data: dict[str, Any],
    link: str,
    case_id: str | None = None,
    urgent: bool = False,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Tell `user_id` in the caller's transaction. None for an inactive or unknown user, or
    when `dedupe_key` was told already."""
    now = utcnow()
    r = await recipient(session, user_id, now)
    if r is None:
        return None
    n = Notification.model_construct(
        id=new_id("ntf"),
        user_id=user_id,
        kind=kind.value,
        subject=content.subject(kind.value, data, r.language, r.timezone),
        link=link,
        data=data,
        case_id=case_id,
        urgent=urgent,
        dedupe_key=dedupe_key,
        read_at=None,
        created_at=now,
        updated_at=now,
    )
    deliveries = await _deliveries(session, r, kind, n, now)
    if not await _write(session, n, deliveries):
        return None  # told already (perhaps by another worker a moment ago)
    await emit(
        session,
        "notification.created",
        "notification",
        n.id,
        audience=[user_id],
        payload={"notification_id": n.id, "kind": n.kind, "subject": n.subject, "link": link},
    )
    if deliveries:
        wake_after_commit(session)
    return n


# --------------------------------------------------------------------- the in-app list


async def list_for(
    session: AsyncSession, p: Principal, unread: bool | None, limit: int, cursor: str | None
) -> tuple[list[Notification], str | None]:
    stmt = select(Notification).where(col(Notification.user_id) == p.id)
    if unread is True:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    elif unread is False:
        stmt = stmt.where(col(Notification.read_at).is_not(None))
    return await keyset_page(session, stmt, Notification.id, limit, cursor)


async def mark_read(session: AsyncSession, p: Principal, notification_id: str) -> Notification:
    n = await session.get(Notification, notification_id)
    if n is None or n.user_id != p.id:
        raise NotFound("No such notification.")
    if n.read_at is None:
        n.read_at = n.updated_at = utcnow()
        await session.flush()
    return n


async def mark_all_read(session: AsyncSession, p: Principal) -> int:
    now = utcnow()
    res = await session.execute(
        update(Notification)
        .where(col(Notification.user_id) == p.id, col(Notification.read_at).is_(None))
        .values(read_at=now, updated_at=now)
    )
    return int(getattr(res, "rowcount", 0) or 0)


async def unread_count(session: AsyncSession, user_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        )
        or 0
    )
