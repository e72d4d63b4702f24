"""Adding an interpreter or a second specialist: who may, and what they then see."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases.models import CaseParticipant
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.cases.support import API, count, rows


@pytest.fixture
async def people(factory):
    org = await factory.make_org()
    other = await factory.make_org()
    return {
        "org": org,
        "clinician": await factory.make_user(Role.clinician, organization_id=org.id),
        "clinician_b": await factory.make_user(Role.clinician, organization_id=other.id),
        "coordinator": await factory.make_user(Role.coordinator),
        "specialist": await factory.make_user(Role.specialist),
        "second": await factory.make_user(Role.specialist),
        "interpreter": await factory.make_user(Role.interpreter),
    }


async def test_clinician_adds_an_interpreter_who_then_sees_the_case(client, factory, people):
    case = await factory.make_case(people["org"].id)
    interp = people["interpreter"]
    assert (
        await client.get(f"{API}/cases/{case.id}", headers=factory.headers(interp))
    ).status_code == 404
    r = await client.post(
        f"{API}/cases/{case.id}/participants",
        json={"user_id": interp.id, "role": "interpreter"},
        headers=factory.headers(people["clinician"]),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user_id"] == interp.id and body["role"] == "interpreter"
    assert body["added_by_id"] == people["clinician"].id and body["case_id"] == case.id
    read = await client.get(f"{API}/cases/{case.id}", headers=factory.headers(interp))
    assert read.status_code == 200 and read.json()["view"] == "full"
    assert read.json()["version"] == 2
    listed = await client.get(
        f"{API}/cases/{case.id}/participants", headers=factory.headers(interp)
    )
    assert [p["user_id"] for p in listed.json()["items"]] == [interp.id]
    events = await rows(
        select(OutboxEvent.type, OutboxEvent.audience).where(OutboxEvent.resource_id == case.id)
    )
    assert [e.type for e in events] == ["case.participant_added"]
    assert interp.id in events[0].audience
    assert await count(AuditEntry, AuditEntry.action == "case.participant.add") == 1


async def test_assigned_specialist_adds_a_second_specialist(client, factory, people):
    case = await factory.make_case(people["org"].id, assigned_specialist_id=people["specialist"].id)
    r = await client.post(
        f"{API}/cases/{case.id}/participants",
        json={"user_id": people["second"].id, "role": "specialist"},
        headers=factory.headers(people["specialist"]),
    )
    assert r.status_code == 201, r.text
    read = await client.get(f"{API}/cases/{case.id}", headers=factory.headers(people["second"]))
    assert read.status_code == 200 and read.json()["view"] == "full"


async def test_who_may_not_add(client, factory, people):
    case = await factory.make_case(people["org"].id, status="offered")
    await factory.make_offer(case.id, people["specialist"].id)
    body = {"user_id": people["interpreter"].id, "role": "interpreter"}
    url = f"{API}/cases/{case.id}/participants"
    # Sees the summary, may not act: 403. Another facility: 404.
    assert (
        await client.post(url, json=body, headers=factory.headers(people["specialist"]))
    ).status_code == 403
    assert (
        await client.post(url, json=body, headers=factory.headers(people["clinician_b"]))
    ).status_code == 404
    # A participant interpreter may not add others.
    await factory.add_participant(case.id, people["interpreter"].id)
    other_interp = await factory.make_user(Role.interpreter)
    r = await client.post(
        url,
        json={"user_id": other_interp.id, "role": "interpreter"},
        headers=factory.headers(people["interpreter"]),
    )
    assert r.status_code == 403
    assert await count(CaseParticipant) == 1


async def test_bad_participants(client, factory, people):
    case = await factory.make_case(people["org"].id, assigned_specialist_id=people["specialist"].id)
    url = f"{API}/cases/{case.id}/participants"
    h = factory.headers(people["coordinator"])
    inactive = await factory.make_user(Role.interpreter, active=False)
    cases = [
        ({"user_id": people["clinician"].id, "role": "interpreter"}, 422, "/role"),
        ({"user_id": people["interpreter"].id, "role": "specialist"}, 422, "/role"),
        ({"user_id": "usr_nobody", "role": "interpreter"}, 422, "/user_id"),
        ({"user_id": inactive.id, "role": "interpreter"}, 422, "/user_id"),
        ({"user_id": people["interpreter"].id, "role": "observer"}, 422, "/role"),
        ({"user_id": people["interpreter"].id}, 422, "/role"),
        ({"user_id": people["specialist"].id, "role": "specialist"}, 409, None),
    ]
    for body, status, pointer in cases:
        r = await client.post(url, json=body, headers=h)
        assert r.status_code == status, (body, r.text)
        if pointer:
            assert pointer in [e["pointer"] for e in r.json()["errors"]]
    assert await count(CaseParticipant) == 0
    ok = await client.post(
        url, json={"user_id": people["interpreter"].id, "role": "interpreter"}, headers=h
    )
    assert ok.status_code == 201
    dup = await client.post(
        url, json={"user_id": people["interpreter"].id, "role": "interpreter"}, headers=h
    )
    assert dup.status_code == 409
    assert dup.json()["type"].endswith("/already-participant")
    assert await count(CaseParticipant) == 1
    # One addition, one event (the duplicate wrote none); the one added is told of it.
    added = OutboxEvent.type == "case.participant_added"  # type: ignore[arg-type]
    assert await count(OutboxEvent, added) == 1
    assert await count(OutboxEvent, ~added) == 1  # her notification, for the live inbox


@pytest.mark.parametrize("status", ["closed", "cancelled"])
async def test_no_participants_on_a_finished_case(client, factory, people, status):
    case = await factory.make_case(people["org"].id, status=status)
    r = await client.post(
        f"{API}/cases/{case.id}/participants",
        json={"user_id": people["interpreter"].id, "role": "interpreter"},
        headers=factory.headers(people["coordinator"]),
    )
    assert r.status_code == 409
    assert await count(CaseParticipant) == 0
