"""Login throttling per account and per address: 429 problem+json with Retry-After.

Runs on the in-memory limiter, and on Redis when REDIS_URL is set (as .ci/run does).
"""

import os
from datetime import timedelta

import httpx
import pytest

from app.core.config import get_settings
from app.core.principal import Role
from app.core.ratelimit import MemoryLimiter, RedisLimiter, get_limiter

API = "/api/v1"
PASSWORD = "correct-horse-battery"


async def _login(client, email: str, password: str):
    return await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )


def _assert_429(r) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/rate-limited")
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= get_settings().login_window_seconds + 1


def test_the_backend_follows_the_settings():
    limiter = get_limiter()
    if os.environ.get("REDIS_URL"):
        assert isinstance(limiter, RedisLimiter)
    else:
        assert isinstance(limiter, MemoryLimiter)


async def test_per_account(client, factory):
    u = await factory.make_user(Role.specialist, password=PASSWORD)
    limit = get_settings().login_attempts_per_account
    for _ in range(limit):
        assert (await _login(client, u.email, "wrong-password")).status_code == 400
    _assert_429(await _login(client, u.email, "wrong-password"))
    # Even the right password waits: the account is what is being guessed at.
    _assert_429(await _login(client, u.email.upper(), PASSWORD))
    # Another account from the same address is not held back by this one.
    other = await factory.make_user(Role.specialist, password=PASSWORD)
    assert (await _login(client, other.email, PASSWORD)).status_code == 200


async def test_success_clears_the_account_count(client, factory):
    u = await factory.make_user(Role.specialist, password=PASSWORD)
    limit = get_settings().login_attempts_per_account
    for _ in range(limit - 1):
        assert (await _login(client, u.email, "wrong-password")).status_code == 400
    assert (await _login(client, u.email, PASSWORD)).status_code == 200
    for _ in range(limit - 1):
        assert (await _login(client, u.email, "wrong-password")).status_code == 400
    assert (await _login(client, u.email, PASSWORD)).status_code == 200


async def test_per_address(app, factory):
    limit = get_settings().login_attempts_per_address
    u = await factory.make_user(Role.specialist, password=PASSWORD)

    def client_from(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async with client_from("203.0.113.7") as sprayer, client_from("198.51.100.9") as other:
        # Password spraying: a different account each time, all from one address.
        for i in range(limit):
            r = await _login(sprayer, f"user{i}@example.org", "wrong-password")
            assert r.status_code == 400, (i, r.text)
        _assert_429(await _login(sprayer, "user-new@example.org", "wrong-password"))
        _assert_429(await _login(sprayer, u.email, PASSWORD))
        # Another address still gets in.
        assert (await _login(other, u.email, PASSWORD)).status_code == 200


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
async def test_redis_counts_are_shared_between_processes():
    # Two limiter objects stand for two API processes on one Redis.
    url = os.environ["REDIS_URL"]
    a, b = RedisLimiter(url), RedisLimiter(url)
    key = "acct:shared-test@example.org"
    await a.reset(key)
    assert await a.hit(key, 2, 60) is None
    assert await b.hit(key, 2, 60) is None
    wait = await a.hit(key, 2, 60)
    assert wait is not None and 1 <= wait <= 60
    await b.reset(key)
    assert await a.hit(key, 2, 60) is None
    await a.reset(key)


async def test_memory_limiter_window_slides(clock):
    # The limiter reads the programme's clock: moving it stands for the time passing.
    clock.freeze()
    limiter = MemoryLimiter()
    assert await limiter.hit("k", 1, 10) is None
    assert await limiter.hit("k", 1, 10) == 11
    clock.advance(timedelta(seconds=9.5))
    assert await limiter.hit("k", 1, 10) == 1  # half a second left: wait one
    clock.advance(timedelta(seconds=0.5))
    assert await limiter.hit("k", 1, 10) is None  # the first attempt slid out
    assert await limiter.hit("k", 1, 10) == 11


async def test_memory_limiter_forgets_a_remembered_address_on_time(clock):
    clock.freeze()
    limiter = MemoryLimiter()
    await limiter.remember("a@example.org|203.0.113.7", 60)
    clock.advance(timedelta(seconds=59))
    assert await limiter.known("a@example.org|203.0.113.7")
    clock.advance(timedelta(seconds=1))
    assert not await limiter.known("a@example.org|203.0.113.7")
