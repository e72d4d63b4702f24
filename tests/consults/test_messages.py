"""The store-and-forward path: numbering, deduplication, paging, visibility, the event."""

import asyncio

from sqlalchemy import select

from app.consults.models import Message
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.core.helpers import assert_problem

API = "/api/v1"


async def _setup(factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    case = await factory.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    return org, clinician, specialist, case


async def test_anonymous_and_other_facility_are_refused(client, factory):
    org, clinician, specialist, case = await _setup(factory)
    other = await factory.make_user(Role.clinician, organization_id=(await factory.make_org()).id)
    url = f"{API}/cases/{case.id}/messages"
    assert (await client.get(url)).status_code == 401
    r = await client.post(
        url, json={"body": "x", "client_msg_id": "a"}, headers=factory.headers(other)
    )
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_specialist_with_only_an_offer_cannot_read_the_conversation(client, factory):
    org, clinician, specialist, case = await _setup(factory)
    offered = await factory.make_user(Role.specialist)
    await factory.make_offer(case.id, offered.id)
    r = await client.get(f"{API}/cases/{case.id}/messages", headers=factory.headers(offered))
    assert r.status_code == 404


async def test_messages_are_numbered_and_listed_in_order(client, factory):
    org, clinician, specialist, case = await _setup(factory)
    url = f"{API}/cases/{case.id}/messages"
    seqs = []
    for i, who in enumerate([clinician, specialist, clinician]):
        r = await client.post(
            url, json={"body": f"m{i}", "client_msg_id": f"c{i}"}, headers=factory.headers(who)
        )
        assert r.status_code == 201, r.text
        seqs.append(r.json()["seq"])
    assert seqs == [1, 2, 3]
    body = (await client.get(url, headers=factory.headers(specialist))).json()
    assert [m["body"] for m in body["items"]] == ["m0", "m1", "m2"]
    assert body["items"][1]["sender_role"] == "specialist"
    assert body["items"][0]["updated_at"] == body["items"][0]["created_at"]
    after = (
        await client.get(url, params={"after_seq": 1}, headers=factory.headers(clinician))
    ).json()
    assert [m["seq"] for m in after["items"]] == [2, 3]


async def test_pages_follow_seq(client, factory):
    org, clinician, specialist, case = await _setup(factory)
    url = f"{API}/cases/{case.id}/messages"
    for i in range(5):
        await client.post(
            url,
            json={"body": f"m{i}", "client_msg_id": f"c{i}"},
            headers=factory.headers(clinician),
        )
    got, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=factory.headers(clinician))).json()
        got += [m["seq"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert got == [1, 2, 3, 4, 5]


async def test_a_resend_returns_the_stored_message(client, factory, db):
    org, clinician, specialist, case = await _setup(factory)
    url = f"{API}/cases/{case.id}/messages"
    h = factory.headers(clinician)
    first = await client.post(url, json={"body": "BP 90/60", "client_msg_id": "same"}, headers=h)
    again = await client.post(url, json={"body": "BP 90/60", "client_msg_id": "same"}, headers=h)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    # The same client_msg_id from someone else is another message.
    other = await client.post(
        url, json={"body": "ok", "client_msg_id": "same"}, headers=factory.headers(specialist)
    )
    assert other.status_code == 201 and other.json()["seq"] == 2
    rows = (await db.scalars(select(Message).where(Message.case_id == case.id))).all()
    assert len(rows) == 2


async def test_concurrent_posts_get_distinct_gapless_seqs(client, factory):
    org, clinician, specialist, case = await _setup(factory)
    url = f"{API}/cases/{case.id}/messages"

    async def send(i: int, who):
        r = await client.post(
            url, json={"body": f"m{i}", "client_msg_id": f"c{i}"}, headers=factory.headers(who)
        )
        assert r.status_code == 201, r.text
        return r.json()["seq"]

    seqs = await asyncio.gather(*(send(i, clinician if i % 2 else specialist) for i in range(20)))
    assert sorted(seqs) == list(range(1, 21))


async def test_concurrent_resends_store_once(client, factory, db):
    org, clinician, specialist, case = await _setup(factory)
    url = f"{API}/cases/{case.id}/messages"
    h = factory.headers(clinician)
    rs = await asyncio.gather(
        *(client.post(url, json={"body": "x", "client_msg_id": "dup"}, headers=h) for _ in range(6))
    )
    assert sorted(r.status_code for r in rs) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in rs}) == 1
    rows = (await db.scalars(select(Message).where(Message.case_id == case.id))).all()
    assert [m.seq for m in rows] == [1]


async def test_a_message_emits_one_event_for_the_case_people(client, factory, db):
    org, clinician, specialist, case = await _setup(factory)
    interpreter = await factory.make_user(Role.interpreter)
    await factory.add_participant(case.id, interpreter.id)
    url = f"{API}/cases/{case.id}/messages"
    h = factory.headers(specialist)
    await client.post(url, json={"body": "Start doxycycline", "client_msg_id": "a"}, headers=h)
    await client.post(url, json={"body": "Start doxycycline", "client_msg_id": "a"}, headers=h)
    events = (
        await db.scalars(select(OutboxEvent).where(OutboxEvent.type == "message.created"))
    ).all()
    assert len(events) == 1
    ev = events[0]
    assert ev.organization_id == org.id
    assert set(ev.audience) == {clinician.id, specialist.id, interpreter.id}
    assert ev.payload["seq"] == 1 and ev.payload["case_id"] == case.id


async def test_validation(client, factory):
    org, clinician, specialist, case = await _setup(factory)
    url = f"{API}/cases/{case.id}/messages"
    h = factory.headers(clinician)
    r = await client.post(url, json={"body": "", "client_msg_id": "a"}, headers=h)
    assert r.status_code == 422
    r = await client.post(url, json={"body": "x", "client_msg_id": "a", "extra": 1}, headers=h)
    assert r.status_code == 422
    r = await client.get(url, params={"after_seq": -1}, headers=h)
    assert r.status_code == 422


async def test_attack_a_read_only_api_client_cannot_post_a_message(client, factory, db):
    org, clinician, specialist, case = await _setup(factory)
    reader = await factory.make_client(org.id, scopes=["cases:read"])
    url = f"{API}/cases/{case.id}/messages"
    assert (await client.get(url, headers=factory.headers(reader))).status_code == 200
    r = await client.post(
        url, json={"body": "forged", "client_msg_id": "x1"}, headers=factory.headers(reader)
    )
    assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")
    assert (await db.scalars(select(Message).where(Message.case_id == case.id))).all() == []


async def test_an_api_client_without_cases_read_is_refused_the_conversation(client, factory):
    org, clinician, specialist, case = await _setup(factory)
    rounds_only = await factory.make_client(org.id, scopes=["rounds:read"])
    r = await client.get(f"{API}/cases/{case.id}/messages", headers=factory.headers(rounds_only))
    assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")


async def test_a_cancelled_case_takes_no_more_messages_and_keeps_what_was_said(client, factory, db):
    """Cancelled (sent by mistake), a case's conversation stays to read, but nobody answers
    there now: a new message is 409 `case-cancelled`, stored nowhere and announced to nobody.
    A resend of one stored before the cancel still finds it (its sender lost the answer)."""
    org, clinician, specialist, case = await _setup(factory)
    url = f"{API}/cases/{case.id}/messages"
    h = factory.headers(clinician)
    first = await client.post(url, json={"body": "Photos sent", "client_msg_id": "a"}, headers=h)
    assert first.status_code == 201, first.text
    r = await client.post(f"{API}/cases/{case.id}/cancel", json={}, headers=h)
    assert r.status_code == 200, r.text

    for who in (clinician, specialist):
        r = await client.post(
            url, json={"body": "Still there?", "client_msg_id": "b"}, headers=factory.headers(who)
        )
        body = assert_problem(r, 409, "case-cancelled")
        assert "cancelled" in body["detail"]
    again = await client.post(url, json={"body": "Photos sent", "client_msg_id": "a"}, headers=h)
    assert again.status_code == 200 and again.json() == first.json()

    listed = await client.get(url, headers=factory.headers(specialist))
    assert [m["body"] for m in listed.json()["items"]] == ["Photos sent"]
    rows = (await db.scalars(select(Message).where(Message.case_id == case.id))).all()
    assert [m.seq for m in rows] == [1]
    events = (
        await db.scalars(select(OutboxEvent).where(OutboxEvent.type == "message.created"))
    ).all()
    assert len(events) == 1


async def test_a_closed_case_still_takes_messages(client, factory):
    """Closed is not cancelled: questions after the close (a follow-up's finding, a red flag
    seen later) still belong to its care, and its room stays open."""
    org, clinician, specialist, _ = await _setup(factory)
    case = await factory.make_case(
        org.id,
        status="closed",
        assigned_specialist_id=specialist.id,
        submitted_by_id=clinician.id,
    )
    r = await client.post(
        f"{API}/cases/{case.id}/messages",
        json={"body": "The rash came back", "client_msg_id": "c"},
        headers=factory.headers(clinician),
    )
    assert r.status_code == 201, r.text
