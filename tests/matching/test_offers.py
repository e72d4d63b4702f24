from datetime import datetime, timedelta

from app.core.clock import utcnow
from app.core.principal import Role
from tests.matching.support import API, case_status, events, offers_of
from tests.specialists.support import make_specialist


async def _offer(client, factory, who, case_id, body):
    return await client.post(
        f"{API}/cases/{case_id}/offers", json=body, headers=factory.headers(who)
    )


async def _answer(client, factory, who, offer_id, verb, body=None):
    return await client.post(
        f"{API}/offers/{offer_id}/{verb}", json=body, headers=factory.headers(who)
    )


async def test_clinic_sends_auto_offers_and_the_first_accept_wins(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    a = await make_specialist(factory, languages=["es"])
    b = await make_specialist(factory, languages=["es"])
    c = await make_specialist(factory, languages=["en"])
    case = await factory.make_case(org.id, languages=["es"], urgency="urgent")

    r = await _offer(client, factory, clin, case.id, {"auto": True, "count": 2})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["case_status"] == "offered"
    offered = {o["specialist_id"]: o for o in body["items"]}
    assert set(offered) == {a.id, b.id}
    first = offered[a.id]
    assert first["status"] == "pending" and first["case"]["urgency"] == "urgent"
    assert first["case"]["status"] == "offered"
    assert first["case"]["organization_id"] == org.id  # where it comes from, for the inbox
    # Each new offer is what a read of it shows, its case's facts included.
    read = await client.get(f"{API}/offers/{first['id']}", headers=factory.headers(a))
    assert read.status_code == 200 and read.json() == first
    expires = datetime.fromisoformat(first["expires_at"])
    assert timedelta(minutes=119) < expires - utcnow() <= timedelta(minutes=120)
    assert set(first["score_parts"]) >= {"language", "load", "availability"}

    created = await events("offer.created")
    assert sorted(e.audience for e in created) == sorted([[a.id], [b.id]])
    assert len(await events("case.offered", case.id)) == 1

    # Each specialist's inbox holds their own offer only.
    inbox = await client.get(
        f"{API}/offers", params={"status": "pending"}, headers=factory.headers(a)
    )
    assert [o["id"] for o in inbox.json()["items"]] == [first["id"]]
    assert (await client.get(f"{API}/offers", headers=factory.headers(c))).json()["items"] == []

    r = await _answer(client, factory, a, first["id"], "accept")
    assert r.status_code == 200, r.text
    accepted = r.json()
    assert accepted["status"] == "accepted" and accepted["responded_at"] is not None
    assert accepted["case"]["status"] == "assigned"
    # The answer is the offer as a read shows it afterwards, its case's facts included.
    read = await client.get(f"{API}/offers/{first['id']}", headers=factory.headers(a))
    assert read.status_code == 200 and read.json() == accepted
    stored = await case_status(case.id)
    assert stored.status == "assigned" and stored.assigned_specialist_id == a.id
    assert stored.assigned_at is not None
    r = await _answer(client, factory, b, offered[b.id]["id"], "accept")
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    statuses = {o.specialist_id: o.status for o in await offers_of(case.id)}
    assert statuses == {a.id: "accepted", b.id: "withdrawn"}
    assert [e.audience for e in await events("offer.withdrawn")] == [[b.id]]
    assert len(await events("case.assigned", case.id)) == 1
    # A second accept of one's own offer is a conflict too, and changes nothing.
    assert (await _answer(client, factory, a, first["id"], "accept")).status_code == 409


async def test_only_the_offered_specialist_answers(client, factory):
    org = await factory.make_org()
    sp = await make_specialist(factory)
    case = await factory.make_case(org.id, status="offered")
    offer = await factory.make_offer(case.id, sp.id)
    coord = await factory.make_user(Role.coordinator)
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    for who in (coord, clin):
        assert (await _answer(client, factory, who, offer.id, "accept")).status_code == 403
    other = await make_specialist(factory)
    assert (await _answer(client, factory, other, offer.id, "accept")).status_code == 404


async def test_coordinator_chooses_specialists_and_bad_choices_are_422(client, factory):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    derm = await make_specialist(factory)
    cardio = await make_specialist(factory, specialties=["cardiology"])
    full = await make_specialist(factory, max_active_cases=1)
    await factory.make_case(org.id, assigned_specialist_id=full.id)
    case = await factory.make_case(org.id)

    r = await _offer(
        client,
        factory,
        coord,
        case.id,
        {"specialist_ids": [derm.id, cardio.id, full.id, "usr_nobody"]},
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("invalid-offer-target")
    errors = {e["pointer"]: e["detail"] for e in problem["errors"]}
    assert set(errors) == {"/specialist_ids/1", "/specialist_ids/2", "/specialist_ids/3"}
    assert "dermatology" in errors["/specialist_ids/1"]
    assert "at_capacity" in errors["/specialist_ids/2"]
    assert await offers_of(case.id) == []  # nothing half-written
    assert (await case_status(case.id)).status == "submitted"

    # A clinic may ask for auto offers, not pick people.
    r = await _offer(client, factory, clin, case.id, {"specialist_ids": [derm.id]})
    assert r.status_code == 403
    r = await _offer(client, factory, coord, case.id, {"specialist_ids": [derm.id]})
    assert r.status_code == 201, r.text
    assert r.json()["items"][0]["offered_by_id"] == coord.id
    # Offering the same person twice is refused.
    r = await _offer(client, factory, coord, case.id, {"specialist_ids": [derm.id]})
    assert r.status_code == 422
    assert "already_offered" in r.json()["errors"][0]["detail"]


async def test_malformed_offer_requests(client, factory):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    case = await factory.make_case(org.id)
    for body in (
        {},
        {"auto": True, "specialist_ids": ["x"]},
        {"auto": False},
        {"auto": True, "count": 0},
        {"auto": True, "colour": "red"},
    ):
        r = await _offer(client, factory, coord, case.id, body)
        assert r.status_code == 422, (body, r.text)
    assigned = await factory.make_case(
        org.id, assigned_specialist_id=(await make_specialist(factory)).id
    )
    r = await _offer(client, factory, coord, assigned.id, {"auto": True})
    assert r.status_code == 409
    assert r.json()["type"].endswith("case-not-offerable")


async def test_decline_passes_the_case_down_the_ranking_then_unmatched(client, factory):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    await factory.make_user(Role.coordinator, active=False)
    first = await make_specialist(factory, languages=["es"])
    second = await make_specialist(factory, languages=["en"])
    case = await factory.make_case(org.id, languages=["es"])
    r = await _offer(client, factory, coord, case.id, {"auto": True, "count": 1})
    (offer,) = r.json()["items"]
    assert offer["specialist_id"] == first.id

    r = await _answer(client, factory, first, offer["id"], "decline", {"reason": "on call"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "declined" and r.json()["decline_reason"] == "on call"
    offers = await offers_of(case.id)
    assert [(o.specialist_id, o.status) for o in offers] == [
        (first.id, "declined"),
        (second.id, "pending"),
    ]
    assert offers[1].interpreter_needed

    r = await _answer(client, factory, second, offers[1].id, "decline", {})
    assert r.status_code == 200
    assert (await case_status(case.id)).status == "unmatched"
    # The answer shows where the case went, as a read of the offer does afterwards.
    assert r.json()["case"]["status"] == "unmatched"
    read = await client.get(f"{API}/offers/{offers[1].id}", headers=factory.headers(second))
    assert read.status_code == 200 and read.json() == r.json()
    (alert,) = await events("matching.unmatched", case.id)
    assert alert.audience == [coord.id]
    assert len(await events("case.unmatched", case.id)) == 1
    # Declining again is a conflict.
    assert (await _answer(client, factory, second, offers[1].id, "decline", {})).status_code == 409


async def test_auto_offer_with_nobody_available_makes_the_case_unmatched(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    await make_specialist(factory, specialties=["cardiology"])
    case = await factory.make_case(org.id)
    r = await _offer(client, factory, clin, case.id, {"auto": True})
    assert r.status_code == 201
    assert r.json() == {"case_id": case.id, "case_status": "unmatched", "items": []}


async def test_capacity_is_checked_again_at_acceptance(client, factory):
    org = await factory.make_org()
    sp = await make_specialist(factory, max_active_cases=1)
    case = await factory.make_case(org.id, status="offered")
    offer = await factory.make_offer(case.id, sp.id)
    # Meanwhile they took another case.
    await factory.make_case(org.id, assigned_specialist_id=sp.id)
    r = await _answer(client, factory, sp, offer.id, "accept")
    assert r.status_code == 409
    assert r.json()["type"].endswith("at-capacity")
    stored = await case_status(case.id)
    assert stored.status == "offered" and stored.assigned_specialist_id is None
    assert (await offers_of(case.id))[0].status == "pending"


async def test_an_expired_offer_cannot_be_accepted(client, factory):
    org = await factory.make_org()
    sp = await make_specialist(factory)
    case = await factory.make_case(org.id, status="offered")
    offer = await factory.make_offer(case.id, sp.id, expires_at=utcnow() - timedelta(minutes=1))
    r = await _answer(client, factory, sp, offer.id, "accept")
    assert r.status_code == 409
    assert "expired" in r.json()["detail"]
    assert (await case_status(case.id)).status == "offered"


async def test_facility_and_staff_see_offers_of_their_cases(client, factory):
    org, other = await factory.make_org(), await factory.make_org()
    sp = await make_specialist(factory)
    case = await factory.make_case(org.id, status="offered")
    offer = await factory.make_offer(case.id, sp.id)
    own = await factory.make_user(Role.clinician, organization_id=org.id)
    foreign = await factory.make_user(Role.clinician, organization_id=other.id)
    coord = await factory.make_user(Role.coordinator)
    for who, expected in ((own, [offer.id]), (foreign, []), (coord, [offer.id]), (sp, [offer.id])):
        r = await client.get(f"{API}/offers", headers=factory.headers(who))
        assert [o["id"] for o in r.json()["items"]] == expected
    assert (
        await client.get(f"{API}/offers/{offer.id}", headers=factory.headers(foreign))
    ).status_code == 404


async def test_api_clients_need_the_scope_for_what_they_do_with_offers(client, factory):
    org = await factory.make_org()
    await make_specialist(factory)
    case = await factory.make_case(org.id)
    reader = await factory.make_client(org.id, ["cases:read"])
    writer = await factory.make_client(org.id, ["cases:read", "cases:write"])
    narrow = await factory.make_client(org.id, ["rounds:read"])

    # Reading candidates and offers needs cases:read; sending offers needs cases:write.
    for path in (f"/cases/{case.id}/candidates", "/offers"):
        assert (await client.get(API + path, headers=factory.headers(reader))).status_code == 200
        r = await client.get(API + path, headers=factory.headers(narrow))
        assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")
    r = await _offer(client, factory, reader, case.id, {"auto": True, "count": 1})
    assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")
    assert await offers_of(case.id) == []
    r = await _offer(client, factory, writer, case.id, {"auto": True, "count": 1})
    assert r.status_code == 201, r.text
    offer_id = r.json()["items"][0]["id"]
    r = await client.get(f"{API}/offers/{offer_id}", headers=factory.headers(narrow))
    assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")
    # Only the specialist answers: an API client that sees the offer may not.
    assert (await _answer(client, factory, writer, offer_id, "accept")).status_code == 403


async def test_a_specialist_takes_cases_up_to_her_capacity_and_no_further(client, factory):
    """Her last free place is hers to take (max 1, none open: the accept wins); past it the
    accept is 409 at-capacity, naming what she has, and the case waits for another."""
    org = await factory.make_org()
    ana = await make_specialist(factory, max_active_cases=1)
    first = await factory.make_case(org.id, status="offered")
    second = await factory.make_case(org.id, status="offered")
    one = await factory.make_offer(first.id, ana.id)
    two = await factory.make_offer(second.id, ana.id)

    r = await _answer(client, factory, ana, one.id, "accept")
    assert r.status_code == 200, r.text
    r = await _answer(client, factory, ana, two.id, "accept")
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["type"].endswith("at-capacity"), body
    assert body["active_cases"] == 1 and body["max_active_cases"] == 1, body
    assert (await case_status(second.id)).status == "offered"
    assert {o.status for o in await offers_of(second.id)} == {"pending"}


async def test_accepts_at_once_never_take_her_past_her_capacity(client, factory):
    """Eight offers accepted at the same moment by one specialist with room for one: one
    wins. On PostgreSQL her open cases are counted after her profile is held, so an accept
    that waited for the lock sees the case the other committed meanwhile."""
    import asyncio

    org = await factory.make_org()
    ana = await make_specialist(factory, max_active_cases=1)
    offers = []
    for _ in range(8):
        case = await factory.make_case(org.id, status="offered")
        offers.append(await factory.make_offer(case.id, ana.id))
    answers = await asyncio.gather(*(_answer(client, factory, ana, o.id, "accept") for o in offers))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [409] * 7, [r.text for r in answers]
