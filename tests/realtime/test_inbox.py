"""The inbox socket: a user's own feed, from the outbox, after commit."""

import pytest

from app.cases.lifecycle import transition
from app.cases.models import Case, CaseStatus
from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.service import emit
from tests.cases.support import case_body
from tests.realtime.support import API, inprocess_server, open_socket


@pytest.fixture
async def host(app):
    async with inprocess_server(app) as h:
        yield h


async def test_the_inbox_hears_what_concerns_the_user_and_their_facility(host, factory, client):
    org = await factory.make_org()
    other_org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    colleague = await factory.make_user(Role.clinician, organization_id=org.id)
    stranger = await factory.make_user(Role.clinician, organization_id=other_org.id)
    specialist = await factory.make_user(Role.specialist)
    bystander = await factory.make_user(Role.specialist)
    case = await factory.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    inbox = {
        u.id: await open_socket(host, "/ws/inbox", factory.token(u))
        for u in (clinician, colleague, stranger, specialist, bystander)
    }

    # An offer for the bystander reaches only them.
    async with sessionmaker()() as s:
        await emit(
            s,
            "offer.created",
            "offer",
            "off_1",
            organization_id=org.id,
            audience=[bystander.id],
            payload={"case_id": case.id},
        )
        await s.commit()
    got = await inbox[bystander.id].next("event")
    assert got["event"] == "offer.created" and got["resource_id"] == "off_1"

    # A status change reaches the case's people and every clinician of its facility.
    async with sessionmaker()() as s:
        await transition(s, await s.get(Case, case.id), CaseStatus.answered, specialist.id)
        await s.commit()
    for u in (clinician, colleague, specialist):
        ev = await inbox[u.id].next("event")
        assert (ev["event"], ev["payload"]["status"]) == ("case.answered", "answered")

    # A message notifies the case's people; the body stays in the room.
    r = await client.post(
        f"{API}/cases/{case.id}/messages",
        json={"body": "Patient reference MRN-1", "client_msg_id": "a"},
        headers=factory.headers(clinician),
    )
    assert r.status_code == 201
    ev = await inbox[specialist.id].next("event")
    assert ev["event"] == "message.created" and "body" not in ev["payload"]
    assert ev["payload"]["seq"] == 1

    for who in (stranger, bystander):
        frames = inbox[who.id].frames
        assert not [f for f in frames if f["type"] == "event" and f["event"] != "offer.created"], (
            frames
        )
    for c in inbox.values():
        await c.close()


async def test_a_rolled_back_change_announces_nothing(host, factory):
    org = await factory.make_org()
    user = await factory.make_user(Role.clinician, organization_id=org.id)
    c = await open_socket(host, "/ws/inbox", factory.token(user))
    async with sessionmaker()() as s:
        await emit(
            s, "followup.due", "follow_up", "fu_1", organization_id=org.id, audience=[user.id]
        )
        await s.flush()
        await s.rollback()
    async with sessionmaker()() as s:
        await emit(
            s, "followup.due", "follow_up", "fu_2", organization_id=org.id, audience=[user.id]
        )
        await s.commit()
    ev = await c.next("event")
    assert ev["resource_id"] == "fu_2"
    await c.close()


async def test_inbox_pings_and_rejects_other_frames(host, factory):
    user = await factory.make_user(Role.coordinator)
    c = await open_socket(host, "/ws/inbox", factory.token(user))
    await c.send({"type": "ping"})
    assert (await c.next("pong"))["type"] == "pong"
    await c.send({"type": "message", "body": "x", "client_msg_id": "y"})
    assert (await c.next("error"))["code"] == "unknown-type"
    await c.close()


async def test_a_case_submitted_reaches_the_facility(host, factory, client):
    """POST /cases writes its event on the fast lane (app.core.queries), not through the
    ORM: the relay still hears of it after the commit, and the facility's inbox gets it."""
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    colleague = await factory.make_user(Role.clinician, organization_id=org.id)
    inbox = await open_socket(host, "/ws/inbox", factory.token(colleague))
    r = await client.post(f"{API}/cases", json=case_body(), headers=factory.headers(clinician))
    assert r.status_code == 201, r.text
    ev = await inbox.next("event")
    assert ev["event"] == "case.submitted" and ev["resource_id"] == r.json()["id"]
    assert isinstance(ev["id"], int) and ev["id"] > 0
    await inbox.close()


async def test_attack_an_api_client_hears_facility_events_only_within_its_scopes(host, factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id, submitted_by_id=clinician.id)
    no_cases = await factory.make_client(org.id, scopes=["rounds:read"])
    with_cases = await factory.make_client(org.id, scopes=["cases:read"])
    deaf = await open_socket(
        host, "/ws/inbox", factory.headers(no_cases)["Authorization"].split()[1]
    )
    hears = await open_socket(
        host, "/ws/inbox", factory.headers(with_cases)["Authorization"].split()[1]
    )
    async with sessionmaker()() as s:
        await emit(s, "case.note_added", "case", case.id, organization_id=org.id)
        await emit(s, "round.scheduled", "round", "rnd_1", organization_id=org.id)
        await s.commit()
    assert (await hears.next("event"))["event"] == "case.note_added"
    # The rounds reader hears the round, never the case event before it.
    assert (await deaf.next("event"))["event"] == "round.scheduled"
    # And the cases reader does not hear the round.
    async with sessionmaker()() as s:
        await emit(s, "case.answered", "case", case.id, organization_id=org.id)
        await s.commit()
    assert (await hears.next("event"))["event"] == "case.answered"
