"""The notifier's background passes (app/worker.py runs them on its ticks) and its sender
loop (the worker runs it beside the ticks: woken by every commit in its process that wrote
a delivery, polling every NOTIFY_POLL_SECONDS for those of other processes, so an offer's
email does not wait for a tick). Each pass is bounded and claims its rows, so several
workers share the work."""

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.cases.models import Case, Offer, OfferStatus, Urgency
from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import is_postgres, unit_of_work
from app.core.queries import fixed
from app.notifications import digest, sender
from app.notifications.channels import email
from app.notifications.content import link
from app.notifications.escalation import run_escalation
from app.notifications.kinds import Kind
from app.notifications.listeners import case_facts
from app.notifications.models import MessageGather, Notification
from app.notifications.service import notify, wake
from app.realtime import presence

log = logging.getLogger("app.notifications")

# An offer is recalled to its specialist when this share of its time is left.
REMIND_AT_SHARE_LEFT = 0.25


async def send_deliveries() -> None:
    while await sender.send_due() >= sender.BATCH:
        pass


async def flush_gathered(session: AsyncSession, batch: int = 100) -> int:
    """Each window that has run its quarter hour becomes one notification (and email)."""
    now = utcnow()
    stmt = (
        select(MessageGather)
        .where(col(MessageGather.open).is_(True), col(MessageGather.due_at) <= now)
        .order_by(col(MessageGather.due_at))
        .limit(batch)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    done = 0
    for g in (await session.scalars(stmt)).all():
        g.open = None
        if await presence.in_room(g.case_id, [g.user_id]):
            continue  # back in the room now: they are reading them there
        case, facts = await case_facts(session, g.case_id)
        if case is None:
            continue
        await notify(
            session,
            g.user_id,
            Kind.messages,
            data={"count": g.count, "specialty": facts["specialty"]},
            link=link(f"/cases/{g.case_id}"),
            case_id=g.case_id,
            dedupe_key=f"messages:{g.user_id}:{g.case_id}:{g.first_seq}",
        )
        done += 1
    await session.flush()
    return done


async def remind_expiring(session: AsyncSession, batch: int = 200) -> int:
    """A pending offer with a quarter of its time left is recalled to its specialist, once."""
    now = utcnow()
    longest = max(get_settings().offer_expiry_minutes.values(), default=720)
    key = literal("expiring:") + col(Offer.id)
    rows = (
        await session.execute(
            select(Offer, col(Case.urgency))
            .join(Case, col(Case.id) == col(Offer.case_id))
            .where(
                col(Offer.status) == fixed(OfferStatus.pending),
                col(Offer.expires_at) > now,
                col(Offer.expires_at) <= now + timedelta(minutes=longest * REMIND_AT_SHARE_LEFT),
                ~exists().where(col(Notification.dedupe_key) == key),
            )
            .order_by(col(Offer.expires_at))
            .limit(batch)
        )
    ).all()
    done = 0
    for offer, urgency in rows:
        if offer.expires_at - now > (offer.expires_at - offer.created_at) * REMIND_AT_SHARE_LEFT:
            continue
        _, facts = await case_facts(session, offer.case_id)
        made = await notify(
            session,
            offer.specialist_id,
            Kind.offer_expiring,
            data={**facts, "deadline": offer.expires_at.isoformat()},
            link=link(f"/offers/{offer.id}"),
            case_id=offer.case_id,
            urgent=urgency == Urgency.emergency,
            dedupe_key=f"expiring:{offer.id}",
        )
        done += made is not None
    await session.flush()
    return done


async def _in_session(fn: object) -> None:
    async with unit_of_work() as session:
        await fn(session)  # type: ignore[operator]


async def gathered_messages() -> None:
    await _in_session(flush_gathered)


async def offer_reminders() -> None:
    await _in_session(remind_expiring)


async def digests() -> None:
    now = utcnow()
    async with unit_of_work() as session:
        await digest.schedule_new(session, now)
    async with unit_of_work() as session:
        await digest.send_due(session, now)


async def send_soon(stop: asyncio.Event) -> None:
    poll = get_settings().notify_poll_seconds
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            woken = asyncio.ensure_future(wake.wait())
            await asyncio.wait({woken, stopped}, timeout=poll, return_when="FIRST_COMPLETED")
            woken.cancel()
            wake.clear()
            try:
                while await sender.send_due() >= sender.BATCH and not stop.is_set():
                    pass
            except Exception:
                log.exception("notification sender pass failed; retrying")
    finally:
        stopped.cancel()
        with contextlib.suppress(BaseException):
            await stopped
        email.close_kept()


LOOPS = {"notifications.sender": send_soon}

JOBS = {
    "notifications.escalation": run_escalation,
    "notifications.gathered_messages": gathered_messages,
    "notifications.offer_reminders": offer_reminders,
    "notifications.digests": digests,
    # Last: what the passes above wrote goes out in the same worker tick.
    "notifications.send": send_deliveries,
}
