"""A case moves through one state at a time, however close together two changes arrive:
the clinician cancels while the specialist signs her note, or two people close the answered
case. One lands; the other is 409 and leaves nothing behind (no event). Before, on
PostgreSQL both landed: with a signature and a cancellation the case ended answered with
`case.cancelled` sent."""

import asyncio

from sqlalchemy import select

from app.cases.models import Case
from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.notes.helpers import API, note_world, write_note


async def _case_and_events(case_id: str) -> tuple[Case, list[str]]:
    async with sessionmaker()() as s:
        case = await s.get(Case, case_id)
        types = list(
            (
                await s.scalars(
                    select(OutboxEvent.type)
                    .where(OutboxEvent.resource_id == case_id, OutboxEvent.type.like("case.%"))
                    .order_by(OutboxEvent.id)
                )
            ).all()
        )
    assert case is not None
    return case, types


async def test_two_closes_at_once_one_lands(client, factory):
    """The clinician and a colleague close the answered case from two phones: one outcome
    is kept, one `case.closed` sent, and the other is told the case is closed already."""
    w = await note_world(factory, status="answered")
    colleague = await factory.make_user(Role.clinician, organization_id=w.org.id)
    first, second = await asyncio.gather(
        *(
            client.post(
                f"{API}/cases/{w.case.id}/close",
                json={"outcome": outcome},
                headers=factory.headers(who),
            )
            for who, outcome in (
                (w.clinician, "Rash cleared with the advised treatment."),
                (colleague, "Improved; seen again at the clinic."),
            )
        )
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
    winner, loser = (first, second) if first.status_code == 200 else (second, first)
    assert loser.json()["type"].endswith("/invalid-transition")
    case, types = await _case_and_events(w.case.id)
    assert (case.status, case.outcome) == ("closed", winner.json()["outcome"])
    assert types == ["case.closed"]
    assert case.version == w.case.version + 1


async def test_cancel_while_the_consult_note_is_signed_one_lands(client, factory):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    sign, cancel = await asyncio.gather(
        client.post(
            f"{API}/notes/{note['id']}/sign",
            headers={**factory.headers(w.specialist), "If-Match": '"1"'},
        ),
        client.post(
            f"{API}/cases/{w.case.id}/cancel",
            json={"reason": "Patient went home"},
            headers=factory.headers(w.clinician),
        ),
    )
    assert sorted([sign.status_code, cancel.status_code]) == [200, 409], (sign.text, cancel.text)
    case, types = await _case_and_events(w.case.id)
    if sign.status_code == 200:
        assert case.status == "answered" and types == ["case.answered"]
    else:
        assert case.status == "cancelled" and types == ["case.cancelled"]


async def test_people_added_together_each_count(client, factory):
    """The clinician adds an interpreter while the specialist adds a second specialist: both
    join, and the case's version counts both changes (a copy read after the first is not
    current after the second). Before, on PostgreSQL both wrote the same next version."""
    w = await note_world(factory)
    interpreter = await factory.make_user(Role.interpreter)
    second = await factory.make_user(Role.specialist)
    rs = await asyncio.gather(
        client.post(
            f"{API}/cases/{w.case.id}/participants",
            json={"user_id": interpreter.id, "role": "interpreter"},
            headers=factory.headers(w.clinician),
        ),
        client.post(
            f"{API}/cases/{w.case.id}/participants",
            json={"user_id": second.id, "role": "specialist"},
            headers=factory.headers(w.specialist),
        ),
    )
    assert [r.status_code for r in rs] == [201, 201], [r.text for r in rs]
    case, types = await _case_and_events(w.case.id)
    assert types == ["case.participant_added", "case.participant_added"]
    assert case.version == w.case.version + 2


async def test_a_note_acknowledged_by_two_at_once_is_acknowledged_once(client, factory):
    """Two clinicians of the facility (or one double tap) acknowledge the signed note: its
    author hears it once, and the record names who was first."""
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    url = f"{API}/notes/{note['id']}"
    r = await client.post(
        f"{url}/sign", headers={**factory.headers(w.specialist), "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    colleague = await factory.make_user(Role.clinician, organization_id=w.org.id)
    rs = await asyncio.gather(
        *(
            client.post(f"{url}/acknowledge", headers=factory.headers(u))
            for u in (w.clinician, colleague)
        )
    )
    assert [r.status_code for r in rs] == [200, 200], [r.text for r in rs]
    assert rs[0].json()["acknowledged_by_id"] == rs[1].json()["acknowledged_by_id"]
    assert rs[0].json()["acknowledged_at"] == rs[1].json()["acknowledged_at"]
    async with sessionmaker()() as s:
        told = list(
            (
                await s.scalars(
                    select(OutboxEvent.id).where(
                        OutboxEvent.type == "note.acknowledged",
                        OutboxEvent.resource_id == note["id"],
                    )
                )
            ).all()
        )
    assert len(told) == 1
