"""The database unreachable for a while (PostgreSQL behind a proxy the test cuts): every
request answers 503 problem+json with Retry-After, /readyz says 503 for the whole gap, and
service comes back by itself when the database does."""

import secrets
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from app.core.principal import Role
from tests.conftest import IS_PG
from tests.faults.proxy import CuttableProxy
from tests.realtime.support import API, ServerProcess

pytestmark = pytest.mark.skipif(not IS_PG, reason="a database server to lose: PostgreSQL only")


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


async def test_fault_database_unreachable_answers_503_with_retry_after(database_url, factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id, submitted_by_id=clinician.id)
    target = urlsplit(database_url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    headers = factory.headers(clinician)
    try:
        async with (
            ServerProcess(_through(database_url, proxy.port)) as srv,
            httpx.AsyncClient(base_url=f"http://{srv.host}", timeout=30) as c,
        ):
            assert (await c.get("/readyz")).status_code == 200
            assert (await c.get(f"{API}/me", headers=headers)).status_code == 200

            await proxy.cut()
            for _ in range(3):  # the pool's connections die one by one: every try is a 503
                for r in (
                    await c.get(f"{API}/me", headers=headers),
                    await c.get(f"{API}/cases/{case.id}", headers=headers),
                    await c.post(
                        f"{API}/cases/{case.id}/messages",
                        json={"body": "during the gap", "client_msg_id": secrets.token_hex(6)},
                        headers=headers,
                    ),
                ):
                    assert r.status_code == 503, r.text
                    assert r.headers["content-type"].startswith("application/problem+json")
                    assert int(r.headers["retry-after"]) > 0
                    assert r.json()["status"] == 503
                ready = await c.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"]["database"] == "unreachable"

            await proxy.restore()
            assert (await c.get("/readyz")).status_code == 200
            assert (await c.get(f"{API}/me", headers=headers)).status_code == 200
            r = await c.post(
                f"{API}/cases/{case.id}/messages",
                json={"body": "after the gap", "client_msg_id": "after"},
                headers=headers,
            )
            assert r.status_code == 201, r.text
    finally:
        await proxy.stop()


async def test_fault_database_stalled_readyz_says_503_within_its_timeout(database_url, factory):
    """A link that drops packets refuses nothing: without a bound, /readyz hung as long as
    the link did instead of saying 503."""
    target = urlsplit(database_url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    try:
        async with (
            ServerProcess(_through(database_url, proxy.port), READY_TIMEOUT_SECONDS="1") as srv,
            httpx.AsyncClient(base_url=f"http://{srv.host}", timeout=30) as c,
        ):
            assert (await c.get("/readyz")).status_code == 200
            proxy.stall()
            for _ in range(2):
                t0 = time.monotonic()
                ready = await c.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"]["database"] == "unreachable"
                assert time.monotonic() - t0 < 5
            proxy.unstall()
            for _ in range(50):  # the stalled connections give way to fresh ones
                if (await c.get("/readyz")).status_code == 200:
                    break
            else:
                raise AssertionError("/readyz did not come back after the stall")
    finally:
        proxy.unstall()
        await proxy.stop()
