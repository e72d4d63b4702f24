"""The live room under attack and under load: revocation, joins racing events (issue 16)."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.auth.models import RevokedAccessToken
from app.consults.models import Message
from app.core.db import sessionmaker
from app.core.principal import Role
from app.core.security import decode_token
from app.events.models import SESSION_ENDED, OutboxEvent
from app.events.service import emit
from tests.realtime.support import API, inprocess_server, open_socket


@pytest.fixture
async def host(app):
    async with inprocess_server(app) as h:
        yield h


async def _room(factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    case = await factory.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    return case, clinician, specialist


async def test_sockets_joining_while_the_cases_events_arrive_are_not_refused(host, factory):
    """A case event makes the hub re-check the room's sockets; a socket still being admitted
    was re-checked with no token and closed 4401 "token expired or revoked"."""
    case, clinician, specialist = await _room(factory)
    stop = asyncio.Event()

    async def events() -> int:
        n = 0
        while not stop.is_set():
            async with sessionmaker()() as s:
                await emit(
                    s,
                    "case.participant_added",
                    "case",
                    case.id,
                    organization_id=case.organization_id,
                    payload={"user_id": specialist.id},
                )
                await s.commit()
            n += 1
            await asyncio.sleep(0)
        return n

    emitter = asyncio.create_task(events())
    tokens = [factory.token(clinician if i % 2 else specialist) for i in range(40)]
    socks = await asyncio.gather(
        *(open_socket(host, f"/ws/cases/{case.id}", t, after_seq=0) for t in tokens)
    )
    # Let the re-checks spawned by the last events finish before looking.
    for _ in range(3):
        async with sessionmaker()() as s:
            await emit(s, "case.participant_added", "case", case.id, payload={})
            await s.commit()
    stop.set()
    assert await emitter > 0
    assert all(s.ready["case_id"] == case.id for s in socks)
    # Every socket is still open and served: none was closed by a spurious re-check.
    for s in socks:
        await s.send({"type": "ping"})
    for s in socks:
        assert (await s.next("pong"))["type"] == "pong"
        assert not [f for f in s.frames if f["type"] == "error"]
    for s in socks:
        await s.close()


async def _stored(case_id: str) -> list[str]:
    async with sessionmaker()() as s:
        rows = await s.scalars(select(Message.body).where(Message.case_id == case_id))
        return list(rows.all())


async def test_attack_a_revoked_token_cannot_send_the_next_frame(host, factory, client):
    case, clinician, specialist = await _room(factory)
    revoked = factory.token(clinician)
    room = f"/ws/cases/{case.id}"
    a = await open_socket(host, room, revoked, after_seq=0)
    inbox = await open_socket(host, "/ws/inbox", revoked)
    # The same person on another device (another token) keeps their socket.
    other = await open_socket(host, room, factory.token(clinician), after_seq=0)
    b = await open_socket(host, room, factory.token(specialist), after_seq=0)
    r = await client.post(f"{API}/auth/revoke", data={"token": revoked})
    assert r.status_code == 200
    # The very next frame is refused and the socket closed; nothing is stored.
    await a.send({"type": "message", "body": "after revocation", "client_msg_id": "r1"})
    code, reason = await a.closed()
    assert code == 4401 and "revoked" in reason
    assert not [f for f in a.frames if f["type"] in ("ack", "message")]
    assert (await inbox.closed())[0] == 4401
    assert await _stored(case.id) == []
    await other.send({"type": "message", "body": "still here", "client_msg_id": "o1"})
    assert (await other.next("ack"))["seq"] == 1
    assert (await b.next("message"))["body"] == "still here"
    for s in (other, b):
        await s.close()


async def test_attack_a_deactivated_user_cannot_send_the_next_frame(host, factory, client):
    case, clinician, specialist = await _room(factory)
    admin = await factory.make_user(Role.admin)
    room = f"/ws/cases/{case.id}"
    a = await open_socket(host, room, factory.token(specialist), after_seq=0)
    b = await open_socket(host, room, factory.token(clinician), after_seq=0)
    r = await client.patch(
        f"{API}/users/{specialist.id}", json={"active": False}, headers=factory.headers(admin)
    )
    assert r.status_code == 200, r.text
    # An ephemeral frame (never stored) is refused as well: nothing reaches the room.
    await a.send({"type": "typing", "state": True})
    assert (await a.closed())[0] == 4401
    await b.send({"type": "ping"})
    await b.next("pong")
    assert not [f for f in b.frames if f["type"] == "typing"]
    await b.close()


async def test_attack_a_revocation_the_bus_never_carried_still_stops_a_message(host, factory):
    """Another process revoked the token and Redis was down: the bus said nothing, but the
    transaction that would store the message checks the token itself."""
    case, clinician, _ = await _room(factory)
    token = factory.token(clinician)
    a = await open_socket(host, f"/ws/cases/{case.id}", token, after_seq=0)
    claims = decode_token(token, "access")
    async with sessionmaker()() as s:  # the row only, no event
        s.add(
            RevokedAccessToken(
                jti=claims["jti"], expires_at=datetime.fromtimestamp(claims["exp"], UTC)
            )
        )
        await s.commit()
    await a.send({"type": "message", "body": "sneaked in", "client_msg_id": "s1"})
    assert (await a.closed())[0] == 4401
    assert await _stored(case.id) == []


async def test_a_revocation_is_no_partner_feed_item(factory, client):
    admin = await factory.make_user(Role.admin)
    user = await factory.make_user(Role.specialist)
    r = await client.patch(
        f"{API}/users/{user.id}", json={"active": False}, headers=factory.headers(admin)
    )
    assert r.status_code == 200
    async with sessionmaker()() as s:
        types = list((await s.scalars(select(OutboxEvent.type))).all())
    assert SESSION_ENDED in types  # the live hub hears of it ...
    r = await client.get(f"{API}/changes", headers=factory.headers(admin))
    assert r.status_code == 200
    assert SESSION_ENDED not in {i["type"] for i in r.json()["items"]}  # ... nobody else
