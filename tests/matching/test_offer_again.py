"""A coordinator may ask again a specialist whose offer lapsed unanswered: a new offer, the
expired one kept in the case's record. Automatic offers never ask anyone twice, and whoever
declined, or has an offer still open, is refused."""

from datetime import timedelta

from app.core.principal import Role
from app.matching import jobs
from tests.matching.support import API, case_status, events, offers_of
from tests.specialists.support import make_specialist


async def _offer(client, factory, who, case_id, body):
    return await client.post(
        f"{API}/cases/{case_id}/offers", json=body, headers=factory.headers(who)
    )


async def _candidates(client, factory, who, case_id):
    r = await client.get(f"{API}/cases/{case_id}/candidates", headers=factory.headers(who))
    assert r.status_code == 200, r.text
    return {c["specialist_id"]: c["offer_status"] for c in r.json()["items"]}


async def test_a_lapsed_offer_can_be_made_again_by_a_coordinator(client, factory, clock):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    ana = await make_specialist(factory)  # the only one in the specialty: asleep overnight
    case = await factory.make_case(org.id, urgency="urgent")

    r = await _offer(client, factory, coord, case.id, {"auto": True, "count": 1})
    assert r.status_code == 201, r.text
    first = r.json()["items"][0]
    clock.advance(timedelta(hours=3))  # past the urgent offer's 2 hours
    await jobs.expire_offers()
    # Nobody left for the automatic offers: the case is unmatched and stays so.
    assert (await case_status(case.id)).status == "unmatched"
    r = await _offer(client, factory, coord, case.id, {"auto": True, "count": 1})
    assert r.status_code == 201 and r.json()["items"] == []
    assert await _candidates(client, factory, coord, case.id) == {ana.id: "expired"}

    # The coordinator asks her again: a new offer, and the case is offered again.
    r = await _offer(client, factory, coord, case.id, {"specialist_ids": [ana.id]})
    assert r.status_code == 201, r.text
    again = r.json()["items"][0]
    assert again["id"] != first["id"] and again["status"] == "pending"
    assert again["offered_by_id"] == coord.id and again["rank"] == 2
    assert r.json()["case_status"] == "offered"
    assert [(o.id, o.status) for o in await offers_of(case.id)] == [
        (first["id"], "expired"),
        (again["id"], "pending"),
    ]
    assert [e.resource_id for e in await events("offer.created")] == [first["id"], again["id"]]
    assert await _candidates(client, factory, coord, case.id) == {ana.id: "pending"}

    # While it is open she is not asked a third time (422, nothing written).
    r = await _offer(client, factory, coord, case.id, {"specialist_ids": [ana.id]})
    assert r.status_code == 422, r.text
    assert "already_offered" in r.json()["errors"][0]["detail"]
    assert len(await offers_of(case.id)) == 2

    # Her inbox holds the new offer; the old one still reads as expired.
    inbox = await client.get(f"{API}/offers?status=pending", headers=factory.headers(ana))
    assert [o["id"] for o in inbox.json()["items"]] == [again["id"]]
    old = await client.get(f"{API}/offers/{first['id']}", headers=factory.headers(ana))
    assert old.json()["status"] == "expired"
    r = await client.post(f"{API}/offers/{again['id']}/accept", headers=factory.headers(ana))
    assert r.status_code == 200, r.text
    assert (await case_status(case.id)).assigned_specialist_id == ana.id

    # The record tells both: the first offer, its expiry, the second, the assignment.
    record = await client.get(f"{API}/cases/{case.id}/record", headers=factory.headers(coord))
    kinds = [(e["type"], e.get("id")) for e in record.json()["entries"] if "offer" in e["type"]]
    assert kinds == [
        ("offer", first["id"]),
        ("offer_expired", first["id"]),
        ("offer", again["id"]),
        ("offer_accepted", again["id"]),
    ]


async def test_who_declined_is_not_asked_again_and_auto_offers_skip_the_lapsed(
    client, factory, clock
):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    ana = await make_specialist(factory)
    ben = await make_specialist(factory)
    case = await factory.make_case(org.id, urgency="urgent")

    r = await _offer(client, factory, coord, case.id, {"specialist_ids": [ana.id, ben.id]})
    assert r.status_code == 201, r.text
    by_whom = {o["specialist_id"]: o["id"] for o in r.json()["items"]}
    r = await client.post(
        f"{API}/offers/{by_whom[ben.id]}/decline",
        json={"reason": "in theatre all week"},
        headers=factory.headers(ben),
    )
    assert r.status_code == 200, r.text
    clock.advance(timedelta(hours=3))
    await jobs.expire_offers()
    assert await _candidates(client, factory, coord, case.id) == {
        ana.id: "expired",
        ben.id: "declined",
    }

    # Automatic offers ask nobody twice: nothing is made.
    r = await _offer(client, factory, coord, case.id, {"auto": True, "count": 2})
    assert r.status_code == 201 and r.json()["items"] == []
    # A decline is her answer: refused, and the one who lapsed is not offered either (all or
    # nothing).
    r = await _offer(client, factory, coord, case.id, {"specialist_ids": [ana.id, ben.id]})
    assert r.status_code == 422, r.text
    errors = {e["pointer"]: e["detail"] for e in r.json()["errors"]}
    assert set(errors) == {"/specialist_ids/1"} and "declined" in errors["/specialist_ids/1"]
    assert len(await offers_of(case.id)) == 2
    # Asked alone, the one who lapsed is offered it again.
    r = await _offer(client, factory, coord, case.id, {"specialist_ids": [ana.id]})
    assert r.status_code == 201, r.text
    assert [o["specialist_id"] for o in r.json()["items"]] == [ana.id]
    assert r.json()["items"][0]["rank"] == 3
