"""Sending the deliveries: claim, send outside any transaction, mark.

1. Claim a batch of due deliveries in one short transaction (status `sending`, a lease,
   attempts + 1): several senders, in one process or many, never claim one row twice.
2. Send them with no transaction open: email over one SMTP connection per batch, pushes,
   the SMS gateway. A request never waits for this.
3. Mark each one: sent; pending again with backoff after a temporary failure; failed
   after a permanent one or too many attempts (counted in Prometheus, listed for admins).
A process that dies between 2 and 3 leaves the row `sending`; when its lease runs out the
next pass sends it again with the same Message-ID, so a mail client shows it once.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.clock import utcnow
from app.core.config import get_settings
from app.core.db import is_postgres, unit_of_work
from app.core.pagination import keyset_page
from app.notifications import content
from app.notifications.accounts import mail_facts, token_of
from app.notifications.channels import email, push, sms
from app.notifications.channels.base import Outcome, Result
from app.notifications.devices import phone_code
from app.notifications.ics import occurrence_ics
from app.notifications.kinds import AccountMail, Channel, Kind
from app.notifications.models import (
    AccountToken,
    Delivery,
    DeliveryStatus,
    Notification,
    PushSubscription,
)
from app.notifications.preferences import Recipient, facility_zone_and_language, recipient
from app.organizations.models import Organization

log = logging.getLogger("app.notifications")

DELIVERIES = Counter(
    "notification_deliveries_total",
    "Notification deliveries by channel and outcome (sent, retry, failed, skipped).",
    ["channel", "outcome"],
)
BATCH = 200


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... up to an hour between tries."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class Batch:
    claimed: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> (channel, attempts)
    mails: list[email.Mail] = field(default_factory=list)
    pushes: list[push.Push] = field(default_factory=list)
    texts: list[sms.Sms] = field(default_factory=list)
    done: list[Result] = field(default_factory=list)  # settled without sending
    # Read once a pass: a pass often holds several deliveries to one person.
    recipients: dict[str, Recipient | None] = field(default_factory=dict)

    async def recipient(self, session: AsyncSession, user_id: str) -> Recipient | None:
        if user_id not in self.recipients:
            self.recipients[user_id] = await recipient(session, user_id)
        return self.recipients[user_id]


def _due(now: datetime) -> list[object]:
    return [
        and_(
            col(Delivery.status) == DeliveryStatus.pending.value,
            col(Delivery.next_attempt_at) <= now,
        ),
        and_(
            col(Delivery.status) == DeliveryStatus.sending.value,
            col(Delivery.lease_until) <= now,
        ),
    ]


async def _claim(session: AsyncSession, now: datetime, limit: int) -> list[Delivery]:
    lease = now + timedelta(seconds=get_settings().notify_lease_seconds)
    ids: list[str] = []
    for cond in _due(now):
        stmt = (
            select(col(Delivery.id))
            .where(cond)  # type: ignore[arg-type]
            # Ties (notices held to the end of quiet hours) in the order written: a batch
            # never takes a person's later notice and leaves her earlier one for the next.
            .order_by(col(Delivery.next_attempt_at), col(Delivery.created_at), col(Delivery.id))
            .limit(limit - len(ids))
        )
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        ids += list((await session.scalars(stmt)).all())
        if len(ids) >= limit:
            break
    if not ids:
        return []
    claimed: list[str] = []
    for cond in _due(now):
        res = await session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(ids), cond)  # type: ignore[arg-type]
            .values(
                status=DeliveryStatus.sending.value,
                lease_until=lease,
                attempts=col(Delivery.attempts) + 1,
                updated_at=now,
            )
            .returning(col(Delivery.id))
            .execution_options(synchronize_session=False)
        )
        claimed += list(res.scalars().all())
    if not claimed:
        return []
    return list(
        (
            await session.scalars(
                select(Delivery)
                .where(col(Delivery.id).in_(claimed))
                # The order written: one person's notices are sent in turn (email lanes), so
                # a warning goes out before the notice that follows it.
                .order_by(col(Delivery.created_at), col(Delivery.id))
                .execution_options(populate_existing=True)
            )
        ).all()
    )


async def _account_mail(session: AsyncSession, d: Delivery) -> content.Rendered | None:
    row = await session.get(AccountToken, d.context.get("account_token_id", ""))
    if row is None or row.used_at is not None:
        return None
    language, zone = "en", "UTC"
    if d.user_id:
        r = await recipient(session, d.user_id)
        if r is None:
            return None
        language, zone = r.language, r.timezone
    elif row.organization_id:  # an invitee has no language yet: her facility's, if written
        org = await session.get(Organization, row.organization_id)
        if org is not None:
            zone, language = facility_zone_and_language(org.timezone, org.languages)
    path = "invitations" if d.template == AccountMail.invitation else "password-reset"
    return content.render(
        d.template,
        await mail_facts(session, row),
        content.link(f"/{path}/{token_of(row)}"),
        language,
        zone,
    )


async def _prepare(session: AsyncSession, d: Delivery, batch: Batch) -> None:
    """Turn one claimed delivery into what its channel sends (or settle it here)."""
    if d.template == AccountMail.phone_code:
        text = (
            f"Consult: your verification code is {phone_code(d.user_id or '', d.context['salt'])}"
        )
        batch.texts.append(sms.Sms(d.id, d.message_id, d.address or "", text, d.template))
        return
    if d.template in (AccountMail.invitation, AccountMail.password_reset):
        rendered = await _account_mail(session, d)
        if rendered is None:
            batch.done.append(Result(d.id, Outcome.skipped, "link used or account gone"))
            return
        batch.mails.append(email.Mail.of(d.id, d.message_id, d.address or "", rendered))
        return
    n = await session.get(Notification, d.notification_id or "")
    r = await batch.recipient(session, d.user_id) if d.user_id else None
    if n is None or r is None:
        batch.done.append(Result(d.id, Outcome.skipped, "recipient inactive"))
        return
    rendered = content.render(n.kind, n.data, n.link, r.language, r.timezone)
    if d.channel == Channel.email:
        mail = email.Mail.of(d.id, d.message_id, d.address or r.user.email, rendered)
        if n.kind == Kind.round_reminder and "start" in n.data:
            mail.attachments.append(("round.ics", "text/calendar", occurrence_ics(n)))
        batch.mails.append(mail)
    elif d.channel == Channel.sms:
        batch.texts.append(sms.Sms(d.id, d.message_id, d.address or "", rendered.short, n.kind))
    else:
        subs = (
            await session.execute(
                select(
                    col(PushSubscription.id),
                    col(PushSubscription.endpoint),
                    col(PushSubscription.p256dh),
                    col(PushSubscription.auth),
                ).where(col(PushSubscription.user_id) == r.user.id)
            )
        ).all()
        batch.pushes.append(
            push.Push(
                d.id,
                rendered.subject,
                rendered.text.split("\n")[0],
                n.link,
                n.kind,
                [(s[0], s[1], s[2], s[3]) for s in subs],
            )
        )


async def _mark(session: AsyncSession, batch: Batch, results: list[Result], now: datetime) -> None:
    s = get_settings()
    gone: set[str] = set()
    # One UPDATE per set of like outcomes (a pass's emails are mostly `sent` at attempt 1),
    # not one per delivery.
    groups: dict[tuple[tuple[tuple[str, object], ...], int], list[str]] = defaultdict(list)
    for res in results:
        channel, attempts = batch.claimed[res.delivery_id]
        values: dict[str, object] = {
            "lease_until": None,
            "updated_at": now,
            "last_error": res.error,
        }
        outcome = res.outcome
        if outcome == Outcome.retry and attempts >= s.notify_max_attempts:
            outcome = Outcome.failed
        if outcome == Outcome.sent:
            values.update(status=DeliveryStatus.sent.value, sent_at=now)
        elif outcome == Outcome.retry:
            values.update(
                status=DeliveryStatus.pending.value, next_attempt_at=now + backoff(attempts)
            )
        else:
            values["status"] = (
                DeliveryStatus.failed.value
                if outcome == Outcome.failed
                else DeliveryStatus.skipped.value
            )
        if outcome == Outcome.failed:
            log.warning("delivery %s (%s) failed: %s", res.delivery_id, channel, res.error)
        DELIVERIES.labels(channel, outcome.value).inc()
        gone |= set(res.gone)
        groups[(tuple(sorted(values.items())), attempts)].append(res.delivery_id)
    for (values_key, attempts), ids in groups.items():
        # Only our claim: a sender whose lease ran out must not undo a later one's work.
        await session.execute(
            update(Delivery)
            .where(
                col(Delivery.id).in_(ids),
                col(Delivery.status) == DeliveryStatus.sending.value,
                col(Delivery.attempts) == attempts,
            )
            .values(**dict(values_key))
            .execution_options(synchronize_session=False)
        )
    if gone:
        await session.execute(delete(PushSubscription).where(col(PushSubscription.id).in_(gone)))


async def send_due(limit: int = BATCH) -> int:
    """One pass: claim, send, mark. Returns how many deliveries it handled."""
    now = utcnow()
    batch = Batch()
    async with unit_of_work() as session:
        claimed = await _claim(session, now, limit)
        # Their notifications in one read: each `session.get` below finds its own in the
        # session's identity map instead of asking the database.
        if wanted := {d.notification_id for d in claimed if d.notification_id}:
            await session.scalars(select(Notification).where(col(Notification.id).in_(wanted)))
        for d in claimed:
            batch.claimed[d.id] = (d.channel, d.attempts)
            try:
                await _prepare(session, d, batch)
            except Exception as e:  # a delivery we cannot even render must not block others
                log.exception("delivery %s could not be prepared", d.id)
                batch.done.append(Result(d.id, Outcome.retry, f"prepare: {e}"[:500]))
    if not batch.claimed:
        return 0
    results = list(batch.done)
    results += await email.send(batch.mails)
    results += await push.send(batch.pushes)
    results += await sms.send(batch.texts)
    async with unit_of_work() as session:
        await _mark(session, batch, results, utcnow())
    return len(batch.claimed)


async def deliveries_by_status(
    session: AsyncSession, status: DeliveryStatus, limit: int, cursor: str | None
) -> tuple[list[Delivery], str | None]:
    stmt = select(Delivery).where(col(Delivery.status) == status.value)
    return await keyset_page(session, stmt, Delivery.id, limit, cursor)
