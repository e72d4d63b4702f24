"""Fencing on the sender's side: a dispatcher sends only while it surely holds the
endpoint's lease, so one whose renewals fail (or find the endpoint taken) stops before a
second dispatcher may claim it, and no delivery is sent twice.

Time is the tests' clock: the receiver moves it (or takes the lease) while a send is in
flight, which is where a dispatcher under load would find itself."""

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.core.db import sessionmaker, utcnow
from app.partners import dispatcher, leases
from app.partners.dispatcher import deliver_due, fanout
from app.partners.leases import LEASE_SECONDS
from app.partners.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.partners.helpers import caught_up, commit_event, subscribe
from tests.partners.support import Receiver, Served

EVENTS = 5


@dataclass
class Hooked(Receiver):
    """A receiver that runs `hook(n)` while the n-th request (from 0) is in flight."""

    hook: Callable[[int], Awaitable[None]] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.hook is not None:
            await self.hook(len(self.calls))
        await super().__call__(scope, receive, send)


@pytest.fixture
async def hooked() -> AsyncIterator[Hooked]:
    async with Served(Hooked()) as r:
        yield r


def after_next_transaction(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Awaitable[None]]:
    """`await wait()` returns once a transaction of the dispatcher that began after the call
    has ended. While a send is in flight the dispatcher's only transactions are its lease
    renewals, so this waits for one renewal that saw whatever the test just changed."""
    waiting: list[asyncio.Future[None]] = []
    real = leases.unit_of_work

    @contextlib.asynccontextmanager
    async def watched(*args: Any, **kw: Any) -> AsyncIterator[Any]:
        began_after = list(waiting)
        async with real(*args, **kw) as s:
            yield s
        for fut in began_after:
            if not fut.done():
                fut.set_result(None)

    monkeypatch.setattr(leases, "unit_of_work", watched)

    async def wait() -> None:
        fut = asyncio.get_running_loop().create_future()
        waiting.append(fut)
        await asyncio.wait_for(fut, 10)
        waiting.remove(fut)

    return wait


async def _queue(client: Any, factory: Any, receiver: Receiver) -> str:
    """An endpoint with EVENTS pending deliveries, fanned out; returns its id."""
    org = await factory.make_org()
    partner = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(partner), receiver.url, ["case.submitted"])
    for n in range(EVENTS):
        await commit_event("case.submitted", org.id, f"case_{n}")
    await caught_up()
    assert await fanout() == EVENTS
    return str(w["id"])


async def _statuses() -> list[str]:
    async with sessionmaker()() as s:
        rows = await s.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.event_id))
        return [str(st) for st in rows.all()]


async def _endpoint(ep_id: str) -> WebhookEndpoint:
    async with sessionmaker()() as s:
        ep = await s.get(WebhookEndpoint, ep_id)
        assert ep is not None
        return ep


def _received(receiver: Receiver) -> list[str]:
    """The resource ids the receiver got, in order; no webhook-id came twice."""
    ids = Counter(c.headers["webhook-id"] for c in receiver.calls)
    assert max(ids.values()) == 1, ids.most_common(3)
    return [json.loads(c.body)["data"]["resource_id"] for c in receiver.calls]


ALL = [f"case_{n}" for n in range(EVENTS)]
DELIVERED, PENDING = DeliveryStatus.delivered, DeliveryStatus.pending


async def test_a_lapsed_lease_stops_the_batch_and_the_next_holder_sends_the_rest_once(
    client, factory, hooked, http, clock, monkeypatch
):
    # Renewal cannot help (it would run in an hour): the lease runs out mid-batch, as when
    # the renewal is starved by a locked database or a loaded machine.
    monkeypatch.setattr(leases, "RENEW_SECONDS", 3600.0)
    ep_id = await _queue(client, factory, hooked)

    async def lapse(n: int) -> None:
        if n == 0:  # the first send takes longer than the whole lease
            clock.advance(timedelta(seconds=LEASE_SECONDS * clock.speed + 1))

    hooked.hook = lapse
    assert await deliver_due(http, worker="wk_first") == 1
    assert _received(hooked) == ALL[:1]
    assert await _statuses() == [DELIVERED] + [PENDING] * (EVENTS - 1)
    # Nobody claimed it meanwhile, so it was still this worker's to let go.
    assert (await _endpoint(ep_id)).lease_owner is None

    assert await deliver_due(http, worker="wk_second") == EVENTS - 1
    assert _received(hooked) == ALL
    assert await _statuses() == [DELIVERED] * EVENTS


async def test_a_renewal_that_finds_the_lease_taken_stops_the_sender(
    client, factory, hooked, http, clock, monkeypatch
):
    clock.freeze()  # the lease never runs out by time here: only the renewal can tell
    monkeypatch.setattr(leases, "RENEW_SECONDS", 0.01)
    renewed = after_next_transaction(monkeypatch)
    ep_id = await _queue(client, factory, hooked)
    theirs: datetime = utcnow() + timedelta(seconds=LEASE_SECONDS * clock.speed)

    async def take_the_lease(n: int) -> None:
        if n == 0:  # another worker claims the endpoint (as if this one's lease had lapsed)
            async with sessionmaker()() as s:
                await s.execute(
                    update(WebhookEndpoint)
                    .where(WebhookEndpoint.id == ep_id)
                    .values(lease_owner="wk_other", lease_until=theirs)
                )
                await s.commit()
            await renewed()

    hooked.hook = take_the_lease
    assert await deliver_due(http, worker="wk_first") == 1
    assert _received(hooked) == ALL[:1]
    assert await _statuses() == [DELIVERED] + [PENDING] * (EVENTS - 1)
    # The renewal neither extended the other worker's lease nor did the sender release it.
    ep = await _endpoint(ep_id)
    assert (ep.lease_owner, ep.lease_until) == ("wk_other", theirs)

    # The other worker dies; once its lease is over, the rest goes out, once and in order.
    clock.advance(timedelta(seconds=LEASE_SECONDS * clock.speed + 1))
    assert await deliver_due(http, worker="wk_third") == EVENTS - 1
    assert _received(hooked) == ALL
    assert await _statuses() == [DELIVERED] * EVENTS


async def test_confirmed_renewals_keep_a_long_batch_going(
    client, factory, hooked, http, clock, monkeypatch
):
    clock.freeze()
    monkeypatch.setattr(leases, "RENEW_SECONDS", 0.01)
    renewed = after_next_transaction(monkeypatch)
    ep_id = await _queue(client, factory, hooked)

    async def slow(n: int) -> None:
        # Each send takes most of a lease; a renewal lands during each. Together they take
        # far longer than the lease the claim wrote.
        clock.advance(timedelta(seconds=(LEASE_SECONDS - 1) * clock.speed))
        await renewed()

    hooked.hook = slow
    assert await deliver_due(http, worker="wk_first") == EVENTS
    assert _received(hooked) == ALL
    assert await _statuses() == [DELIVERED] * EVENTS
    assert (await _endpoint(ep_id)).lease_owner is None


async def test_a_drain_that_fails_stops_the_others(client, factory, hooked, http, monkeypatch):
    """One endpoint's drain raising cancels the pass's other drains: none goes on sending
    after the renewal has stopped (they used to run on, unrenewed, behind `gather`)."""
    first = await _queue(client, factory, hooked)
    second = await _queue(client, factory, hooked)
    waiting, cancelled = asyncio.Event(), []

    async def send(http: Any, ep: WebhookEndpoint, secrets: Any, d: Any) -> Any:
        if ep.id == first:
            await waiting.wait()  # the other drain is mid-send
            raise RuntimeError("a bug in one drain")
        try:
            waiting.set()
            await asyncio.Event().wait()  # a receiver that never answers
        except asyncio.CancelledError:
            cancelled.append(ep.id)
            raise

    monkeypatch.setattr(dispatcher, "_send", send)
    with pytest.raises(ExceptionGroup) as failed:
        await asyncio.wait_for(deliver_due(http, worker="wk_first"), 10)
    assert failed.group_contains(RuntimeError)
    assert cancelled == [second]
    assert await _statuses() == [PENDING] * (2 * EVENTS)
