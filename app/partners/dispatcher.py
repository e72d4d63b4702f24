"""The webhook dispatcher: outbox -> delivery rows -> signed HTTP requests, retried.

Two steps, each safe to run in several workers at once:
1. fan-out: read the outbox in id order from our own cursor (never past the commit
   watermark), and write one delivery row per matching subscription, in the same
   transaction that moves the cursor: every committed event is fanned out exactly once.
2. send: claim endpoints whose oldest pending delivery is due (FOR UPDATE SKIP LOCKED on
   PostgreSQL, then a lease), and send their deliveries one by one in event order; an
   endpoint's next event waits while an earlier one waits for its retry. A worker sends
   only while it surely holds the lease (fencing: app/partners/leases.py).
"""

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import ApiClient, User
from app.core import clock as clock_setup
from app.core.clock import clock, utcnow
from app.core.config import get_settings
from app.core.db import is_postgres, new_id, unit_of_work
from app.core.errors import AppError
from app.core.principal import Principal, PrincipalKind, Role, Scope
from app.events.models import OutboxEvent
from app.partners.feed import FANOUT, cursor_row, may_see, watermark, webhook_payload
from app.partners.leases import Leases, lease_until, owned
from app.partners.models import (
    KEPT_ATTEMPTS,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.partners.outcomes import Outcome as OutcomeCode
from app.partners.outcomes import of_error, of_status
from app.partners.service import active_secrets
from app.partners.signing import signature_header
from app.partners.urls import check_url, pinned, webhook_client

log = logging.getLogger("app.partners")

# Standard Webhooks' schedule: the wait after the 1st, 2nd, ... failed attempt.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
DISABLE_AFTER = timedelta(days=5)  # an endpoint failing without a break this long is disabled
MAX_RETRY_AFTER = 24 * 3600
SEND_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# An endpoint that refuses connections (or cannot be reached) never saw the message: it is
# probed this often, without using up the schedule, so it is found soon after it is back.
PROBE_SECONDS = 10.0
BATCH = 500
_SCOPES = frozenset(s.value for s in Scope)


def backoff(attempts: int) -> float | None:
    """Seconds to wait after `attempts` failed attempts (None: give up), with ±10 % jitter."""
    if attempts > len(SCHEDULE):
        return None
    return SCHEDULE[attempts - 1] * random.uniform(0.9, 1.1)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max((when - utcnow()).total_seconds(), 0.0), MAX_RETRY_AFTER)


# ----------------------------------------------------------------------------- fan-out


async def _owners(s: AsyncSession, endpoints: list[WebhookEndpoint]) -> dict[str, Principal]:
    """Each endpoint's owner as a principal, as it is now (a revoked client gets nothing)."""
    out: dict[str, Principal] = {}
    client_ids = [e.owner_id for e in endpoints if e.owner_kind == PrincipalKind.client]
    user_ids = [e.owner_id for e in endpoints if e.owner_kind == PrincipalKind.user]
    if client_ids:
        for c in await s.scalars(select(ApiClient).where(col(ApiClient.id).in_(client_ids))):
            if c.active:
                out[c.id] = Principal(
                    id=c.id,
                    kind=PrincipalKind.client,
                    role=Role.clinician,
                    organization_id=c.organization_id,
                    scopes=frozenset(Scope(v) for v in c.scopes if v in _SCOPES),
                )
    if user_ids:
        for u in await s.scalars(select(User).where(col(User.id).in_(user_ids))):
            if u.active and u.role == Role.admin:
                out[u.id] = Principal(
                    id=u.id,
                    kind=PrincipalKind.user,
                    role=Role.admin,
                    organization_id=u.organization_id,
                )
    return out


async def fanout(batch: int = 2000) -> int:
    """One pass: turn committed outbox events into delivery rows. Returns rows written."""
    safe = await watermark()
    async with unit_of_work() as s:
        cur = await cursor_row(s, FANOUT, lock=True)  # serialises fan-out between workers
        if cur.position >= safe:
            await s.rollback()
            return 0
        events = list(
            (
                await s.scalars(
                    select(OutboxEvent)
                    .where(col(OutboxEvent.id) > cur.position, col(OutboxEvent.id) <= safe)
                    .order_by(col(OutboxEvent.id))
                    .limit(batch)
                )
            ).all()
        )
        endpoints = list(
            (await s.scalars(select(WebhookEndpoint).where(col(WebhookEndpoint.active)))).all()
        )
        owners = await _owners(s, endpoints)
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for ev in events:
            for ep in endpoints:
                owner = owners.get(ep.owner_id)
                if owner is None or ev.type not in ep.events or not may_see(owner, ev):
                    continue
                rows.append(
                    {
                        "id": new_id("whd"),
                        "endpoint_id": ep.id,
                        "event_id": ev.id,
                        "event_type": ev.type,
                        "payload": webhook_payload(ev),
                        "status": DeliveryStatus.pending,
                        "attempts": 0,
                        "failures": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        if rows:
            await s.execute(insert(WebhookDelivery), rows)
        cur.position = int(events[-1].id or 0) if len(events) == batch else safe
        cur.updated_at = now
        return len(rows)


# ----------------------------------------------------------------------------- sending


@dataclass
class Outcome:
    delivery: WebhookDelivery
    at: datetime
    status_code: int | None
    error: str | None
    ms: int
    met: OutcomeCode  # what it met, as partners are told it (app.partners.outcomes)
    retry_after: float | None = None
    unreachable: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def _claim(worker: str, limit: int) -> tuple[list[str], datetime]:
    """Endpoints whose oldest pending delivery is due, leased to this worker; the lease's end."""
    now = utcnow()
    until = lease_until(now)
    async with unit_of_work() as s:
        heads = (
            select(
                col(WebhookDelivery.endpoint_id).label("endpoint_id"),
                func.min(col(WebhookDelivery.event_id)).label("head"),
            )
            .where(col(WebhookDelivery.status) == DeliveryStatus.pending)
            .group_by(col(WebhookDelivery.endpoint_id))
            .subquery()
        )
        stmt = (
            select(col(WebhookEndpoint.id))
            .join(heads, heads.c.endpoint_id == col(WebhookEndpoint.id))
            .join(
                WebhookDelivery,
                and_(
                    col(WebhookDelivery.endpoint_id) == col(WebhookEndpoint.id),
                    col(WebhookDelivery.event_id) == heads.c.head,
                ),
            )
            .where(
                col(WebhookEndpoint.active),
                or_(
                    col(WebhookEndpoint.lease_until).is_(None),
                    col(WebhookEndpoint.lease_until) < now,
                ),
                col(WebhookDelivery.next_attempt_at) <= now,
            )
            .order_by(col(WebhookDelivery.next_attempt_at))
            .limit(limit)
        )
        if is_postgres(s):
            stmt = stmt.with_for_update(skip_locked=True, of=WebhookEndpoint)
        ids = list((await s.scalars(stmt)).all())
        if ids:
            await s.execute(
                update(WebhookEndpoint)
                .where(col(WebhookEndpoint.id).in_(ids))
                .values(lease_until=until, lease_owner=worker)
            )
        return ids, until


async def _send(
    http: httpx.AsyncClient, ep: WebhookEndpoint, secrets: list[str], d: WebhookDelivery
) -> Outcome:
    at = utcnow()
    t0 = time.perf_counter()
    body = json.dumps(d.payload, separators=(",", ":")).encode()
    ts = int(clock.wall())  # the receiver checks it against its own clock
    headers = {
        "content-type": "application/json",
        "user-agent": "consult-webhooks/1",
        "webhook-id": d.id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature_header(secrets, d.id, ts, body),
    }
    try:
        r = await http.post(
            ep.url, content=body, headers=headers, timeout=SEND_TIMEOUT, follow_redirects=False
        )
    except httpx.HTTPError as e:
        return Outcome(
            d,
            at,
            None,
            f"{type(e).__name__}: {e}"[:500],
            int((time.perf_counter() - t0) * 1000),
            of_error(e),
            unreachable=isinstance(e, httpx.ConnectError | httpx.ConnectTimeout),
        )
    ms = int((time.perf_counter() - t0) * 1000)
    err = None if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"
    if 300 <= r.status_code < 400:
        err = f"HTTP {r.status_code}: redirects are not followed"
    return Outcome(
        d,
        at,
        r.status_code,
        err,
        ms,
        of_status(r.status_code),
        retry_after(r.headers.get("retry-after")),
    )


async def _record(ep_id: str, worker: str, outcomes: list[Outcome], release: bool) -> None:
    now = utcnow()
    async with unit_of_work() as s:
        ep = await s.get(WebhookEndpoint, ep_id)
        if ep is None:  # deleted while we were sending
            return
        changes: list[dict[str, Any]] = []
        for o in outcomes:
            d = o.delivery
            row: dict[str, Any] = {
                "id": d.id,
                "attempts": d.attempts + 1,
                "last_status_code": o.status_code,
                "last_error": o.error,
                "last_outcome": o.met,
                "updated_at": now,
            }
            if o.ok:
                row.update(status=DeliveryStatus.delivered, delivered_at=o.at)
                ep.failing_since = None
            else:
                ep.failing_since = ep.failing_since or o.at
                if o.status_code == 410:
                    row["status"] = DeliveryStatus.failed
                    ep.active, ep.disabled_at = False, now
                    ep.disabled_reason = "the endpoint answered 410 Gone"
                else:
                    failures = d.failures + (0 if o.unreachable else 1)
                    row["failures"] = failures
                    if o.retry_after is not None:
                        wait: float | None = o.retry_after
                    elif o.unreachable:
                        wait = PROBE_SECONDS * random.uniform(0.9, 1.1)
                    else:
                        wait = backoff(failures)
                    if wait is None:
                        row["status"] = DeliveryStatus.failed  # schedule exhausted: move on
                    else:
                        row["next_attempt_at"] = now + timedelta(seconds=wait)
                    if now - ep.failing_since > DISABLE_AFTER:
                        ep.active, ep.disabled_at = False, now
                        ep.disabled_reason = f"failing since {ep.failing_since.isoformat()}"
            changes.append(row)
        if changes:
            await s.execute(update(WebhookDelivery), changes)
            await s.execute(
                insert(WebhookAttempt),
                [
                    {
                        "delivery_id": o.delivery.id,
                        "at": o.at,
                        "status_code": o.status_code,
                        "error": o.error,
                        "outcome": o.met,
                        "duration_ms": o.ms,
                    }
                    for o in outcomes
                ],
            )
            for o in outcomes:
                if o.delivery.attempts + 1 > KEPT_ATTEMPTS:
                    await s.execute(_older_attempts(o.delivery.id))
        if release:  # renewals alone extend it (Leases knows what they wrote)
            await s.execute(owned([ep_id], worker).values(lease_until=None, lease_owner=None))


def _older_attempts(delivery_id: str) -> Any:
    """DELETE of a delivery's attempts before its latest KEPT_ATTEMPTS."""
    attempt = col(WebhookAttempt.id)
    cutoff = (
        select(attempt)
        .where(col(WebhookAttempt.delivery_id) == delivery_id)
        .order_by(attempt.desc())
        .limit(1)
        .offset(KEPT_ATTEMPTS)
        .scalar_subquery()
    )
    return delete(WebhookAttempt).where(
        col(WebhookAttempt.delivery_id) == delivery_id, attempt <= cutoff
    )


async def _drain(http: httpx.AsyncClient, ep_id: str, leases: Leases, budget: float) -> int:
    """Send an endpoint's due deliveries in event order until one fails, time is up or the
    lease may be running out; returns the attempts made."""
    deadline = time.monotonic() + budget
    sent = 0
    allow_private = get_settings().webhook_allow_private
    while True:
        now = utcnow()
        async with unit_of_work() as s:
            ep = await s.get(WebhookEndpoint, ep_id)
            batch = (
                []
                if ep is None or not ep.active or ep.lease_owner != leases.worker
                else list(
                    (
                        await s.scalars(
                            select(WebhookDelivery)
                            .where(
                                col(WebhookDelivery.endpoint_id) == ep_id,
                                col(WebhookDelivery.status) == DeliveryStatus.pending,
                            )
                            .order_by(col(WebhookDelivery.event_id))
                            .limit(BATCH)
                        )
                    ).all()
                )
            )
        if ep is None or not batch or batch[0].next_attempt_at > now:
            await _record(ep_id, leases.worker, [], release=True)  # nothing to send: release
            return sent
        outcomes: list[Outcome] = []
        addresses: list[str] = []
        try:
            # Again at each batch (DNS may change), and the batch goes to what was checked.
            addresses = await check_url(ep.url, allow_private)
            unsafe = None
        except AppError as e:
            unsafe = e.detail
        secrets = active_secrets(ep)
        fenced = False
        with pinned(ep.url, addresses):
            for d in batch:
                # Past the margin another worker may soon claim the endpoint and send this
                # batch's rest: stop, record what went out; the rest goes in a later pass.
                if fenced := not leases.held(ep_id):
                    log.warning("webhook lease of %s may lapse: batch stopped", ep_id)
                    break
                if unsafe:
                    outcomes.append(Outcome(d, utcnow(), None, unsafe[:500], 0, "unsafe_url"))
                    break
                o = await _send(http, ep, secrets, d)
                outcomes.append(o)
                if not o.ok or time.monotonic() > deadline:
                    break
        # A short batch was the whole queue: release now rather than look again.
        done = fenced or not outcomes[-1].ok or time.monotonic() > deadline or len(batch) < BATCH
        await _record(ep_id, leases.worker, outcomes, release=done)
        sent += len(outcomes)
        if done:
            return sent


async def deliver_due(
    http: httpx.AsyncClient, worker: str | None = None, endpoints: int = 20, budget: float = 10.0
) -> int:
    """One pass: claim due endpoints and send to them concurrently. Returns attempts made."""
    worker = worker or new_id("wk")
    claimed, until = await _claim(worker, endpoints)
    if not claimed:
        return 0
    leases = Leases(worker, claimed, until)
    renewing = asyncio.create_task(leases.keep())
    try:
        # A drain that fails cancels the others (a TaskGroup): none goes on sending once the
        # renewal below has stopped.
        async with asyncio.TaskGroup() as drains:
            done = [drains.create_task(_drain(http, ep, leases, budget)) for ep in claimed]
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
    return sum(d.result() for d in done)


async def run(
    stop: asyncio.Event, http: httpx.AsyncClient | None = None, idle: float = 0.05
) -> None:
    """The dispatcher loop: fan out and send until stopped, polling briefly when idle."""
    own = http is None
    client = http or webhook_client(SEND_TIMEOUT)
    worker = new_id("wk")
    try:
        while not stop.is_set():
            try:
                busy = await fanout() + await deliver_due(client, worker)
            except Exception:
                log.exception("webhook dispatcher pass failed")
                busy = 0
            if not busy:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=idle)
                except TimeoutError:
                    pass
    finally:
        if own:
            await client.aclose()


def main() -> None:
    """`python -m app.partners.dispatcher`: a standalone dispatcher beside the app."""
    import signal

    from app.core.db import init_engine

    logging.basicConfig(level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise

    async def _main() -> None:
        s = get_settings()
        clock_setup.configure(s.clock_start, s.clock_speed, s.clock_anchor, s.clock_file)
        init_engine(s.database_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
