"""Idempotency-Key on POST: replay, reuse with another body, concurrent duplicates, expiry."""

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select, update

from app.cases.models import Case
from app.core.idempotency_models import IdempotencyRecord
from app.core.principal import Role
from app.organizations.models import Organization
from tests.cases.support import case_body
from tests.core.helpers import API, ORG, assert_problem


async def _count_orgs(db) -> int:
    return int(await db.scalar(select(func.count()).select_from(Organization)))


async def test_replay_returns_the_first_answer_without_doing_the_work_again(client, factory, db):
    h = {**factory.headers(await factory.make_user(Role.admin)), "Idempotency-Key": "k-1"}
    first = await client.post(f"{API}/organizations", json=ORG, headers=h)
    assert first.status_code == 201
    again = await client.post(f"{API}/organizations", json=ORG, headers=h)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await _count_orgs(db) == 1


async def test_a_refused_request_stores_no_answer(client, factory, db):
    h = {**factory.headers(await factory.make_user(Role.specialist)), "Idempotency-Key": "k-403"}
    first = await client.post(f"{API}/organizations", json=ORG, headers=h)
    assert_problem(first, 403)
    # A 403 raised by the service rolls back: nothing stored, so the retry runs again and
    # gives the same answer for the same reason.
    again = await client.post(f"{API}/organizations", json=ORG, headers=h)
    # The same answer, but not a replay: each request has its own request id.
    assert again.status_code == 403 and again.headers.get("idempotent-replayed") is None
    assert again.json()["request_id"] != first.json()["request_id"]
    assert {**again.json(), "request_id": None} == {**first.json(), "request_id": None}
    assert await _count_orgs(db) == 0


async def test_same_key_with_another_body_is_422(client, factory, db):
    h = {**factory.headers(await factory.make_user(Role.admin)), "Idempotency-Key": "k-2"}
    assert (await client.post(f"{API}/organizations", json=ORG, headers=h)).status_code == 201
    r = await client.post(f"{API}/organizations", json={**ORG, "name": "Other"}, headers=h)
    body = assert_problem(r, 422, "idempotency-key-reused")
    assert body["errors"][0]["pointer"] == "#header/Idempotency-Key"
    assert await _count_orgs(db) == 1


# The same body posted twice as new work: a case (two facilities of one name in one country
# are refused, so a facility cannot be registered twice as it is).
async def _count_cases(db) -> int:
    return int(await db.scalar(select(func.count()).select_from(Case)))


async def _clinician(factory) -> dict[str, str]:
    org = await factory.make_org()
    return dict(factory.headers(await factory.make_user(Role.clinician, organization_id=org.id)))


async def test_keys_are_scoped_to_the_caller(client, factory, db):
    for h in (await _clinician(factory), await _clinician(factory)):
        r = await client.post(
            f"{API}/cases", json=case_body(), headers={**h, "Idempotency-Key": "shared"}
        )
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert await _count_cases(db) == 2


async def test_without_a_key_every_post_does_the_work(client, factory, db):
    h = await _clinician(factory)
    for _ in range(2):
        assert (await client.post(f"{API}/cases", json=case_body(), headers=h)).status_code == 201
    assert await _count_cases(db) == 2


async def test_overlong_key_is_422(client, factory):
    h = {**factory.headers(await factory.make_user(Role.admin)), "Idempotency-Key": "k" * 256}
    assert_problem(await client.post(f"{API}/organizations", json=ORG, headers=h), 422)


async def test_concurrent_duplicate_in_flight_is_409(client, factory, db, monkeypatch):
    from app.organizations import service

    entered, release = asyncio.Event(), asyncio.Event()
    real_create = service.create
    calls = 0

    async def held_create(*args, **kw):
        nonlocal calls
        calls += 1
        entered.set()
        await release.wait()  # the first request is now inside the handler, uncommitted
        return await real_create(*args, **kw)

    monkeypatch.setattr(service, "create", held_create)
    h = {**factory.headers(await factory.make_user(Role.admin)), "Idempotency-Key": "k-3"}
    first = asyncio.create_task(client.post(f"{API}/organizations", json=ORG, headers=h))
    await asyncio.wait_for(entered.wait(), 10)
    dup = await asyncio.wait_for(client.post(f"{API}/organizations", json=ORG, headers=h), 10)
    assert_problem(dup, 409, "idempotency-in-flight")
    release.set()
    r1 = await asyncio.wait_for(first, 10)
    assert r1.status_code == 201, r1.text
    # Once the first has finished, the duplicate is a plain replay.
    again = await client.post(f"{API}/organizations", json=ORG, headers=h)
    assert again.status_code == 201 and again.json() == r1.json()
    assert calls == 1 and await _count_orgs(db) == 1


async def test_keys_expire_after_the_ttl(client, factory, db):
    from app.core.config import get_settings
    from app.core.db import utcnow
    from app.worker import purge_idempotency_keys

    assert get_settings().idempotency_ttl_hours == 24
    h = {**await _clinician(factory), "Idempotency-Key": "k-4"}
    first = await client.post(f"{API}/cases", json=case_body(), headers=h)
    # 23 hours on: still a replay.
    await db.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=23)))
    await db.commit()
    r = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert r.headers.get("idempotent-replayed") == "true" and r.json() == first.json()
    # 25 hours on: the key is forgotten, so the same request is new work.
    await db.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    await db.commit()
    r = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert r.json()["id"] != first.json()["id"]
    assert await _count_cases(db) == 2
    # The worker's purge removes expired keys and keeps live ones.
    await db.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    await db.commit()
    await purge_idempotency_keys()
    assert await db.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


async def test_token_endpoint_answers_are_not_kept(client, factory):
    """A token answer is a secret: it is never stored, so a retry is a new sign-in (the rest
    of this rule is tests/core/test_secrets_not_kept.py)."""
    u = await factory.make_user(Role.specialist, password="correct-horse-battery")
    form = {"grant_type": "password", "username": u.email, "password": "correct-horse-battery"}
    h = {"Idempotency-Key": "login-1"}
    first = await client.post(f"{API}/auth/token", data=form, headers=h)
    again = await client.post(f"{API}/auth/token", data=form, headers=h)
    assert first.status_code == again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert again.json()["access_token"] != first.json()["access_token"]


async def test_a_refused_request_releases_its_key_before_answering(client, factory):
    """The request's rollback (which frees the key's lock) runs before the answer is sent; it
    once ran later, when the garbage collector closed the session, so a prompt retry saw 409."""
    h = factory.headers(await factory.make_user(Role.specialist))
    for i in range(25):
        key = {"Idempotency-Key": f"retry-{i}"}
        first = await client.post(f"{API}/organizations", json=ORG, headers={**h, **key})
        again = await client.post(f"{API}/organizations", json=ORG, headers={**h, **key})
        assert (first.status_code, again.status_code) == (403, 403), again.text


async def test_a_quoted_and_a_bare_key_are_the_same_key(client, factory, db):
    # The IETF draft sends the key as a Structured Field string; many clients send it bare.
    admin = factory.headers(await factory.make_user(Role.admin))
    first = await client.post(
        f"{API}/organizations", json=ORG, headers={**admin, "Idempotency-Key": '"k-q"'}
    )
    assert first.status_code == 201
    again = await client.post(
        f"{API}/organizations", json=ORG, headers={**admin, "Idempotency-Key": "k-q"}
    )
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await _count_orgs(db) == 1


async def test_the_same_json_written_out_again_is_the_same_request(client, factory, db):
    """A partner's retry queue stores the case and serialises it again: spacing and key
    order differ from the first attempt, the request does not. Compared as bytes, the retry
    was 422 "used with another body", and the partner, told it had a bug, might send the
    case again under a new key: two cases."""
    import json

    from tests.cases.support import case_body

    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    h = {**factory.headers(clin), "Idempotency-Key": "emr-visit-000123"}
    body = case_body()
    first = await client.post(
        f"{API}/cases", content=json.dumps(body), headers={**h, "Content-Type": "application/json"}
    )
    assert first.status_code == 201, first.text
    for again in (
        json.dumps(body, indent=2),
        json.dumps(dict(reversed(list(body.items()))), separators=(",", ":")),
        json.dumps(body, ensure_ascii=True).replace('"routine"', '"\\u0072outine"'),
    ):
        r = await client.post(
            f"{API}/cases", content=again, headers={**h, "Content-Type": "application/json"}
        )
        assert r.status_code == 201, r.text
        assert r.headers["idempotent-replayed"] == "true"
        assert r.json()["id"] == first.json()["id"]
    # A different value is a different request, however it is written.
    changed = {**body, "question": body["question"] + " Worse since last night."}
    r = await client.post(
        f"{API}/cases",
        content=json.dumps(changed, indent=2),
        headers={**h, "Content-Type": "application/json"},
    )
    assert_problem(r, 422, "idempotency-key-reused")
    assert await _count_cases(db) == 1


async def test_an_answer_kept_from_the_bytes_as_sent_still_replays(client, factory, db):
    """Answers kept before fingerprints read JSON canonically were fingerprinted from the
    bytes as sent: the same bytes sent again within the day still get that answer."""
    import json

    from app.core.idempotency import _fingerprint

    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    h = {
        **factory.headers(clin),
        "Idempotency-Key": "kept-before",
        "Content-Type": "application/json",
    }
    sent = json.dumps(case_body(), indent=1)
    first = await client.post(f"{API}/cases", content=sent, headers=h)
    assert first.status_code == 201, first.text

    class AsSent:  # what _fingerprint reads of a request
        method = "POST"

        class url:  # noqa: N801 - the attribute names of starlette's URL
            path = f"{API}/cases"
            query = ""

    await db.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "kept-before")
        .values(fingerprint=_fingerprint(AsSent(), sent.encode()))  # type: ignore[arg-type]
    )
    await db.commit()
    r = await client.post(f"{API}/cases", content=sent, headers=h)
    assert r.status_code == 201 and r.headers["idempotent-replayed"] == "true", r.text
    assert await _count_cases(db) == 1


async def test_a_lone_surrogate_in_a_keyed_request_is_its_422(client, factory):
    """JSON allows `"\ud800"`; the service refuses it as text it cannot store (422). With an
    Idempotency-Key the body's canonical form wrote it out as UTF-8 first, and the request
    was a 500."""
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    h = {
        **factory.headers(clin),
        "Idempotency-Key": "surrogate",
        "Content-Type": "application/json",
    }
    body = json.dumps({**case_body(), "question": "fever \ud800"})
    r = await client.post(f"{API}/cases", content=body, headers=h)
    assert_problem(r, 422)
