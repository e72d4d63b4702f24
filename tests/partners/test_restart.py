"""A dispatcher killed mid-delivery (kill -9): the next process resumes within seconds."""

import asyncio
import os
import signal
import sys
import time

import httpx
from sqlalchemy import insert

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.events.models import OutboxEvent
from tests.partners.helpers import subscribe
from tests.partners.support import free_socket
from tests.timing import clock_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EVENTS = 2000


async def _server() -> tuple[asyncio.subprocess.Process, str]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)),
        cwd=ROOT,
        env={**os.environ, **clock_env(), "RUN_WORKER": "true"},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as c:
        for _ in range(300):
            try:
                if (await c.get("/healthz")).status_code == 200:
                    return proc, base
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise RuntimeError("the app did not start")


async def _wait_for(cond, within: float) -> float:
    """Seconds until `cond()` holds (fails after `within`)."""
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < within, "timed out"
        await asyncio.sleep(0.02)
    return time.monotonic() - t0


async def test_fault_delivery_resumes_within_seconds_after_kill_9(client, factory, receiver):
    org = await factory.make_org()
    partner = await factory.make_client(org.id)
    await subscribe(client, factory.headers(partner), receiver.url, ["case.submitted"])
    now = utcnow()
    async with sessionmaker()() as s:
        await s.execute(
            insert(OutboxEvent),
            [
                {
                    "type": "case.submitted",
                    "resource_type": "case",
                    "resource_id": f"case_{n:05d}",
                    "organization_id": org.id,
                    "audience": [],
                    "payload": {"case_id": f"case_{n:05d}"},
                    "created_at": now,
                }
                for n in range(EVENTS)
            ],
        )
        await s.commit()

    def delivered() -> set[str]:
        return {c.headers["webhook-id"] for c in receiver.calls}

    first, _ = await _server()
    try:
        await _wait_for(lambda: len(receiver.calls) >= 200, within=60)
        first.send_signal(signal.SIGKILL)  # mid-delivery, holding the endpoint's lease
        assert await first.wait() == -signal.SIGKILL
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    before = len(receiver.calls)
    second, _ = await _server()
    try:
        resumed = await _wait_for(lambda: len(receiver.calls) > before, within=60)
        # (the set only once enough calls came: this loop also serves the receiver)
        done = await _wait_for(
            lambda: len(receiver.calls) >= EVENTS and len(delivered()) >= EVENTS, within=120
        )
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()
    print(f"resumed after {resumed:.1f} s, all delivered {done:.1f} s after that")
    assert resumed < 5, f"delivery resumed only {resumed:.1f} s after the restart"
    assert done < 30, f"the backlog took {done:.1f} s"  # a bound, not a benchmark
