"""Taking back what was added to a round by mistake: a case on an occurrence's agenda and
a participant. Allowed to exactly those who may add them; written to the audit log and told
(`round.updated`, `agenda_item_removed` / `participant_removed`) in the same transaction;
404 when not there. An agenda item whose recommendation was recorded stays (409): the
recommendation is part of the case's record. A participant who presents a case at a coming
occurrence stays (409) until someone else presents it or the case is taken off."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.clock import utcnow
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.rounds.support import API, make_round


@pytest.fixture
async def room(client, factory):
    org = await factory.make_org(name="Lake Mission Hospital", timezone="Africa/Nairobi")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    coord = await factory.make_user(Role.coordinator)
    spec = await factory.make_user(Role.specialist)
    interp = await factory.make_user(Role.interpreter)
    first = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT09:00")
    rnd = await make_round(
        org.id,
        timezone="Africa/Nairobi",
        starts_at_local=first,
        rrule="FREQ=DAILY",
        participants=[(spec.id, "specialist"), (interp.id, "interpreter")],
    )
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences", headers=factory.headers(clin), params={"limit": 3}
    )
    occ = [o["original_start"] for o in r.json()["items"]]
    return org, rnd, clin, coord, spec, interp, occ


async def _events(db, rid: str) -> list[OutboxEvent]:
    rows = await db.execute(
        select(OutboxEvent)
        .where(OutboxEvent.type == "round.updated", OutboxEvent.resource_id == rid)
        .order_by(OutboxEvent.id)
    )
    found = list(rows.scalars().all())
    db.expunge_all()  # kept as read
    await db.rollback()  # the connection back (SQLite has one), the next read fresh
    return found


async def _audit(db, action: str) -> list[AuditEntry]:
    rows = await db.execute(select(AuditEntry).where(AuditEntry.action == action))
    found = list(rows.scalars().all())
    db.expunge_all()
    await db.rollback()
    return found


async def _add_case(client, factory, org, rnd, start, who, presenter) -> dict:
    case = await factory.make_case(org.id)
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/{start}/agenda",
        headers=factory.headers(who),
        json={"case_id": case.id, "presenter_id": presenter.id},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_case_put_on_the_agenda_by_mistake_is_taken_off(client, factory, db, room):
    org, rnd, clin, _coord, _spec, _interp, occ = room
    h = factory.headers(clin)
    item = await _add_case(client, factory, org, rnd, occ[0], clin, clin)
    agenda = f"{API}/rounds/{rnd.id}/occurrences/{occ[0]}/agenda"
    before = len(await _events(db, rnd.id))

    r = await client.delete(f"{agenda}/{item['id']}", headers=h)
    assert r.status_code == 204, r.text
    assert r.content == b""
    r = await client.get(agenda, headers=h)
    assert r.json()["items"] == []
    # Told, with the occurrence it was taken off, and who took it off.
    told = (await _events(db, rnd.id))[before:]
    assert [e.payload["change"] for e in told] == ["agenda_item_removed"]
    assert told[0].payload["occurrence_start"] == occ[0].replace("Z", "+00:00")
    assert told[0].payload["by_id"] == clin.id
    assert told[0].organization_id == org.id
    # Audited against the case, as adding is.
    [entry] = await _audit(db, "round_agenda.remove")
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (
        clin.id,
        "case",
        item["case_id"],
    )
    assert rnd.id in (entry.detail or "")
    # The case can go on the agenda again (it was refused as already there).
    r = await client.post(
        agenda, headers=h, json={"case_id": item["case_id"], "presenter_id": clin.id}
    )
    assert r.status_code == 201, r.text


async def test_taking_a_case_off_is_404_when_it_is_not_there(client, factory, db, room):
    org, rnd, clin, coord, _spec, _interp, occ = room
    h = factory.headers(coord)
    item = await _add_case(client, factory, org, rnd, occ[0], coord, clin)
    base = f"{API}/rounds/{rnd.id}/occurrences"
    # Named on another occurrence, not an item at all, or already taken off.
    for url in (
        f"{base}/{occ[1]}/agenda/{item['id']}",
        f"{base}/{occ[0]}/agenda/rai_not-there",
    ):
        r = await client.delete(url, headers=h)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.delete(f"{base}/{occ[0]}/agenda/{item['id']}", headers=h)
    assert r.status_code == 204
    r = await client.delete(f"{base}/{occ[0]}/agenda/{item['id']}", headers=h)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e.payload["change"] for e in await _events(db, rnd.id)].count(
        "agenda_item_removed"
    ) == 1


async def test_only_those_who_arrange_the_agenda_take_a_case_off(client, factory, db, room):
    org, rnd, clin, _coord, spec, interp, occ = room
    item = await _add_case(client, factory, org, rnd, occ[0], clin, clin)
    url = f"{API}/rounds/{rnd.id}/occurrences/{occ[0]}/agenda/{item['id']}"
    other = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org(name="Elsewhere")).id
    )
    reader = await factory.make_client(org.id, scopes=["rounds:read"])
    for who, status in ((spec, 403), (interp, 403), (other, 404), (reader, 403), (None, 401)):
        r = await client.delete(url, headers=factory.headers(who))
        assert r.status_code == status, (who, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences/{occ[0]}/agenda", headers=factory.headers(clin)
    )
    assert [i["id"] for i in r.json()["items"]] == [item["id"]]
    assert "agenda_item_removed" not in [e.payload["change"] for e in await _events(db, rnd.id)]
    # The host's API client with rounds:write may, as it may add.
    writer = await factory.make_client(org.id)
    r = await client.delete(url, headers=factory.headers(writer))
    assert r.status_code == 204, r.text


async def test_a_case_with_the_rounds_recommendation_stays(client, factory, db, room):
    org, rnd, clin, coord, spec, _interp, occ = room
    item = await _add_case(client, factory, org, rnd, occ[0], clin, clin)
    url = f"{API}/rounds/{rnd.id}/occurrences/{occ[0]}/agenda/{item['id']}"
    r = await client.patch(
        url, headers=factory.headers(spec), json={"recommendation": "Patch test, then review."}
    )
    assert r.status_code == 200, r.text
    before = len(await _events(db, rnd.id))
    r = await client.delete(url, headers=factory.headers(coord))
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"].endswith("/agenda-item-recommended")
    assert "recommendation" in problem["detail"] and "record" in problem["detail"]
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences/{occ[0]}/agenda", headers=factory.headers(coord)
    )
    assert r.json()["items"][0]["recommendation"] == "Patch test, then review."
    assert len(await _events(db, rnd.id)) == before
    assert await _audit(db, "round_agenda.remove") == []


async def test_a_participant_added_by_mistake_is_removed(client, factory, db, room):
    org, rnd, clin, coord, spec, interp, _occ = room
    h = factory.headers(coord)
    extra = await factory.make_user(Role.specialist)
    r = await client.post(
        f"{API}/rounds/{rnd.id}/participants",
        headers=h,
        json={"user_id": extra.id, "role": "specialist"},
    )
    assert r.status_code == 201, r.text
    before = len(await _events(db, rnd.id))

    r = await client.delete(f"{API}/rounds/{rnd.id}/participants/{extra.id}", headers=h)
    assert r.status_code == 204, r.text
    r = await client.get(f"{API}/rounds/{rnd.id}/participants", headers=h)
    assert {p["user_id"] for p in r.json()["items"]} == {spec.id, interp.id}
    told = (await _events(db, rnd.id))[before:]
    assert [e.payload["change"] for e in told] == ["participant_removed"]
    assert told[0].payload["user_id"] == extra.id
    assert told[0].payload["role"] == "specialist"
    assert told[0].payload["by_id"] == coord.id
    # The one removed hears of it too, with those who stay.
    assert set(told[0].audience) == {spec.id, interp.id, extra.id}
    [entry] = await _audit(db, "round_participant.remove")
    assert (entry.actor_id, entry.resource_type, entry.resource_id) == (coord.id, "round", rnd.id)
    assert extra.id in (entry.detail or "")
    # Gone from the round: it no longer sees it.
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=factory.headers(extra))
    assert r.status_code == 404
    # Removing again, or someone who never took part: 404.
    for uid in (extra.id, clin.id, "usr_not-there"):
        r = await client.delete(f"{API}/rounds/{rnd.id}/participants/{uid}", headers=h)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_only_those_who_add_participants_remove_them(client, factory, db, room):
    org, rnd, clin, _coord, spec, interp, _occ = room
    url = f"{API}/rounds/{rnd.id}/participants/{interp.id}"
    other = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org(name="Elsewhere")).id
    )
    reader = await factory.make_client(org.id, scopes=["rounds:read"])
    for who, status in ((spec, 403), (interp, 403), (other, 404), (reader, 403), (None, 401)):
        r = await client.delete(url, headers=factory.headers(who))
        assert r.status_code == status, (who, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert "participant_removed" not in [e.payload["change"] for e in await _events(db, rnd.id)]
    r = await client.delete(url, headers=factory.headers(clin))  # the host's clinician may
    assert r.status_code == 204, r.text


async def test_a_participant_presenting_a_coming_case_stays(client, factory, db, room):
    org, rnd, clin, coord, spec, _interp, occ = room
    h = factory.headers(coord)
    item = await _add_case(client, factory, org, rnd, occ[1], coord, spec)
    url = f"{API}/rounds/{rnd.id}/participants/{spec.id}"
    r = await client.delete(url, headers=h)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"].endswith("/presents-on-agenda")
    assert "presents" in problem["detail"]
    r = await client.get(f"{API}/rounds/{rnd.id}/participants", headers=h)
    assert spec.id in {p["user_id"] for p in r.json()["items"]}
    # The case taken off (or given another presenter), she can be removed.
    r = await client.delete(
        f"{API}/rounds/{rnd.id}/occurrences/{occ[1]}/agenda/{item['id']}", headers=h
    )
    assert r.status_code == 204
    r = await client.delete(url, headers=h)
    assert r.status_code == 204, r.text


async def test_a_participant_who_presented_at_a_past_occurrence_can_be_removed(
    client, factory, db, room, clock
):
    org, rnd, _clin, coord, spec, _interp, occ = room
    h = factory.headers(coord)
    await _add_case(client, factory, org, rnd, occ[0], coord, spec)
    clock.advance(timedelta(days=3, hours=12))  # the occurrence is over
    r = await client.delete(f"{API}/rounds/{rnd.id}/participants/{spec.id}", headers=h)
    assert r.status_code == 204, r.text
