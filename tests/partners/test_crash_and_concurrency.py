"""At-least-once across a crash (a real app process, SIGKILLed right after its commit), and
two dispatchers (two processes) sharing the work without sending any delivery twice."""

import asyncio
import json
import os
import signal
import sys
from collections import Counter

import httpx
from standardwebhooks import Webhook

from app.core.principal import Role
from app.partners.dispatcher import run
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


async def test_two_dispatchers_never_send_a_delivery_twice(client, factory, receiver):
    orgs = [await factory.make_org() for _ in range(3)]
    for i, org in enumerate(orgs):
        receiver.path = f"/org{i}"
        await subscribe(
            client,
            factory.headers(await factory.make_client(org.id)),
            receiver.url,
            ["case.submitted"],
        )
    for n in range(60):
        await commit_event("case.submitted", orgs[n % 3].id, f"case_{n:03d}")
    # One dispatcher in another process, one here: they share the endpoints.
    other = await _spawn("-m", "app.partners.dispatcher")
    stop = asyncio.Event()
    async with httpx.AsyncClient() as http:
        here = asyncio.create_task(run(stop, http, idle=0.01))
        try:
            for _ in range(1200):  # up to a minute
                if len({c.headers["webhook-id"] for c in receiver.calls}) >= 60:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # room for a duplicate to show up, if any would
        finally:
            stop.set()
            await here
            other.send_signal(signal.SIGTERM)
            await other.wait()
    ids = Counter(c.headers["webhook-id"] for c in receiver.calls)
    assert len(ids) == 60 and max(ids.values()) == 1, ids.most_common(3)
    seq = [json.loads(c.body)["data"]["resource_id"] for c in receiver.calls]
    for i in range(3):
        mine = [s for s in seq if int(s.split("_")[1]) % 3 == i]
        assert mine == sorted(mine), "an endpoint received events out of order"
