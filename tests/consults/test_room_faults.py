"""The live room under attack and under load: revocation, joins racing events (issue 16)."""

import asyncio

import pytest

from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.service import emit
from tests.realtime.support import inprocess_server, open_socket


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
