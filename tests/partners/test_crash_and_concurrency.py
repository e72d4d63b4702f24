"""At-least-once across a crash (a real app process, SIGKILLed right after its commit), and
two dispatchers (two processes) sharing the work without sending any delivery twice."""

import asyncio
import json
import os
import signal
import sys
from collections import Counter

import httpx
from sqlalchemy import func, select
from sqlmodel import col
from standardwebhooks import Webhook

from app.core.db import unit_of_work
from app.core.principal import Role
from app.partners.dispatcher import run
from app.partners.feed import FANOUT
from app.partners.models import (
    DeliveryStatus,
    PartnerCursor,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.partners.helpers import commit_event, dispatch, subscribe
from tests.partners.support import API, free_socket
from tests.timing import clock_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


async def _spawn(*args: str, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env={**os.environ, **clock_env(), **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_a_committed_case_is_delivered_after_the_app_is_killed(
    client, factory, receiver, http
):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    partner = await factory.make_client(org.id)
    w = await subscribe(client, factory.headers(partner), receiver.url, ["case.submitted"])
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    # RUN_WORKER=false: the app process never gets to dispatch anything itself.
    app = await _spawn(
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        RUN_WORKER="false",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as live:
            for _ in range(300):
                try:
                    if (await live.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            r = await live.post(
                f"{API}/cases",
                headers=factory.headers(clin),
                json={
                    "specialty": "dermatology",
                    "urgency": "urgent",
                    "question": "Spreading rash; which treatment?",
                    "patient": {"reference": "MRN-77", "age_years": 40, "sex": "male"},
                    "consent": {"obtained": True, "method": "verbal"},
                },
            )
            assert r.status_code == 201, r.text
            case_id = r.json()["id"]
        app.send_signal(signal.SIGKILL)  # right after the commit the 201 reports
        assert await app.wait() == -signal.SIGKILL
    finally:
        if app.returncode is None:
            app.kill()
            await app.wait()
    assert receiver.calls == []
    await dispatch(http)  # a fresh dispatcher, from the outbox alone
    [body] = [Webhook(w["secret"]).verify(c.body, c.headers) for c in receiver.calls]
    assert body["type"] == "case.submitted" and body["data"]["case_id"] == case_id


async def _fanned_out(event_id: int) -> bool:
    async with unit_of_work() as s:
        position = await s.scalar(
            select(col(PartnerCursor.position)).where(col(PartnerCursor.name) == FANOUT)
        )
    return position is not None and position >= event_id


async def _settled(endpoints: list[str], expected: int) -> bool:
    """All `expected` deliveries to `endpoints` are delivered and no dispatcher holds one of
    the endpoints: nothing is left that either dispatcher could send, again or at all."""
    async with unit_of_work() as s:
        statuses = (
            await s.scalars(
                select(col(WebhookDelivery.status)).where(
                    col(WebhookDelivery.endpoint_id).in_(endpoints)
                )
            )
        ).all()
        leased = await s.scalar(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(
                col(WebhookEndpoint.id).in_(endpoints),
                col(WebhookEndpoint.lease_owner).is_not(None),
            )
        )
    return (
        len(statuses) == expected
        and all(st == DeliveryStatus.delivered for st in statuses)
        and leased == 0
    )


async def test_two_dispatchers_never_send_a_delivery_twice(client, factory, receiver):
    orgs = [await factory.make_org() for _ in range(3)]
    endpoints: list[str] = []
    for i, org in enumerate(orgs):
        receiver.path = f"/org{i}"
        w = await subscribe(
            client,
            factory.headers(await factory.make_client(org.id)),
            receiver.url,
            ["case.submitted"],
        )
        endpoints.append(w["id"])
    # One dispatcher in another process, one here: they share the endpoints. Both are
    # running before the first delivery exists, so they compete for every one of them.
    other = await _spawn("-m", "app.partners.dispatcher")
    stop = asyncio.Event()
    async with httpx.AsyncClient() as http:
        here: asyncio.Task[None] | None = None
        try:
            # The other process is up once its fan-out has read an event nobody subscribes to
            # (nothing here fans out yet).
            warmup = await commit_event("case.closed", orgs[0].id, "case_warmup")
            for _ in range(1200):  # up to a minute
                if await _fanned_out(warmup):
                    break
                await asyncio.sleep(0.05)
            assert await _fanned_out(warmup), "the other dispatcher did not start"
            here = asyncio.create_task(run(stop, http, idle=0.01))
            for n in range(60):
                await commit_event("case.submitted", orgs[n % 3].id, f"case_{n:03d}")
            for _ in range(1200):  # up to a minute
                if await _settled(endpoints, 60):
                    break
                await asyncio.sleep(0.05)
        finally:
            # Both stop after their pass: a send in flight (a duplicate) still lands.
            stop.set()
            if here is not None:
                await here
            other.send_signal(signal.SIGTERM)
            await other.wait()
    ids = Counter(c.headers["webhook-id"] for c in receiver.calls)
    assert len(ids) == 60 and max(ids.values()) == 1, ids.most_common(3)
    seq = [json.loads(c.body)["data"]["resource_id"] for c in receiver.calls]
    for i in range(3):
        mine = [s for s in seq if int(s.split("_")[1]) % 3 == i]
        assert mine == sorted(mine), "an endpoint received events out of order"
