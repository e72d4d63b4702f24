"""The general rate limit (app/core/ratelimit.py): per principal, or per client address
without a valid token; the IETF draft's fields on every answer; 429 problem+json with
Retry-After past the limit. Runs on the in-memory limiter, and on Redis when REDIS_URL is
set. Windows are the programme's clock: the tests move it, never wait."""

from datetime import timedelta

import httpx
import pytest

from app.core.config import get_settings
from app.core.principal import Role
from tests.factories import API

LIMIT, WINDOW = 3, 60


@pytest.fixture
def small_limit(monkeypatch, clock):
    monkeypatch.setattr(get_settings(), "rate_limit_requests", LIMIT)
    monkeypatch.setattr(get_settings(), "rate_limit_window_seconds", WINDOW)
    # Stop at the start of a window, so its end is WINDOW seconds away.
    now = clock.now()
    clock.freeze(now - timedelta(seconds=now.timestamp() % WINDOW))
    return clock


def _fields(r: httpx.Response) -> tuple[int, int]:
    assert r.headers["ratelimit-policy"] == f'"default";q={LIMIT};w={WINDOW}'
    name, r_, t_ = r.headers["ratelimit"].split(";")
    assert name == '"default"' and r_.startswith("r=") and t_.startswith("t=")
    return int(r_[2:]), int(t_[2:])


async def test_every_answer_says_where_the_caller_stands(client, factory, small_limit):
    h = factory.headers(await factory.make_user(Role.clinician))
    first = await client.get(f"{API}/me", headers=h)
    assert first.status_code == 200 and _fields(first) == (LIMIT - 1, WINDOW)
    small_limit.advance(timedelta(seconds=20))
    # An error counts and says so too.
    missing = await client.get(f"{API}/users/nobody", headers=h)
    assert missing.status_code == 404 and _fields(missing) == (LIMIT - 2, WINDOW - 20)


async def test_past_the_limit_is_429_until_the_window_ends(client, factory, small_limit):
    user = await factory.make_user(Role.clinician)
    h = factory.headers(user)
    for left in range(LIMIT - 1, -1, -1):
        r = await client.get(f"{API}/me", headers=h)
        assert r.status_code == 200 and _fields(r)[0] == left
    small_limit.advance(timedelta(seconds=15))
    r = await client.get(f"{API}/me", headers=h)
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/rate-limited") and r.json()["status"] == 429
    assert r.headers["retry-after"] == str(WINDOW - 15)
    assert _fields(r) == (0, WINDOW - 15)
    assert r.headers["x-request-id"] and r.json()["request_id"] == r.headers["x-request-id"]
    # Another token of the same person shares the count: the limit is the principal's.
    again = factory.headers(user)
    assert (await client.get(f"{API}/me", headers=again)).status_code == 429
    # Someone else is not held back, nor is an anonymous caller.
    other = factory.headers(await factory.make_user(Role.clinician))
    assert (await client.get(f"{API}/me", headers=other)).status_code == 200
    assert (await client.get(f"{API}/me")).status_code == 401
    # The probes are never limited and carry no fields.
    probe = await client.get("/healthz", headers=h)
    assert probe.status_code == 200 and "ratelimit" not in probe.headers
    # The next window starts afresh.
    small_limit.advance(timedelta(seconds=WINDOW - 15))
    r = await client.get(f"{API}/me", headers=h)
    assert r.status_code == 200 and _fields(r) == (LIMIT - 1, WINDOW)


async def test_without_a_valid_token_the_address_is_counted(app, small_limit):
    def client_from(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async with client_from("203.0.113.7") as one, client_from("198.51.100.9") as two:
        bad = {"Authorization": "Bearer not-a-token"}
        for _ in range(LIMIT):
            assert (await one.get(f"{API}/me", headers=bad)).status_code == 401
        refused = await one.get(f"{API}/me")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) == WINDOW
        assert (await two.get(f"{API}/me")).status_code == 401  # another address


async def test_zero_turns_it_off(client, factory, monkeypatch):
    monkeypatch.setattr(get_settings(), "rate_limit_requests", 0)
    r = await client.get(f"{API}/me", headers=factory.headers(await factory.make_user()))
    assert r.status_code == 200 and "ratelimit" not in r.headers


async def test_the_schema_documents_the_fields_and_the_429(client):
    schema = (await client.get("/openapi.json")).json()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if path in ("/healthz", "/readyz", "/metrics"):
                assert "429" not in op["responses"], path
                continue
            assert "Retry-After" in op["responses"]["429"]["headers"], (method, path)
            for code, resp in op["responses"].items():
                assert {"RateLimit", "RateLimit-Policy"} <= set(resp["headers"]), (path, code)
