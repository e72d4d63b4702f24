import asyncio
from datetime import timedelta

from sqlalchemy import update

from app.cases.models import Offer
from app.core.clock import utcnow
from app.core.db import dispose_engine, init_engine, sessionmaker
from app.core.principal import Role
from app.matching import jobs
from tests.matching.support import API, case_status, events, offers_of
from tests.specialists.support import make_specialist


async def test_twenty_concurrent_accepts_give_one_200_and_nineteen_409(client, factory):
    org = await factory.make_org()
    case = await factory.make_case(org.id, status="offered")
    specialists = [await make_specialist(factory) for _ in range(20)]
    offers = [await factory.make_offer(case.id, sp.id) for sp in specialists]

    async def accept(sp, offer):
        return await client.post(f"{API}/offers/{offer.id}/accept", headers=factory.headers(sp))

    results = await asyncio.gather(
        *(accept(sp, o) for sp, o in zip(specialists, offers, strict=True))
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [409] * 19, codes
    winner = next(sp for sp, r in zip(specialists, results, strict=True) if r.status_code == 200)
    stored = await case_status(case.id)
    assert stored.status == "assigned" and stored.assigned_specialist_id == winner.id
    statuses = sorted(o.status for o in await offers_of(case.id))
    assert statuses == ["accepted"] + ["withdrawn"] * 19
    assert len(await events("case.assigned", case.id)) == 1


async def _restart(database_url: str) -> None:
    """What a crash and restart leaves: nothing in memory, only the database."""
    await dispose_engine()
    init_engine(database_url)


async def test_expiry_survives_a_restart_and_re_offers(client, factory, database_url):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    first = await make_specialist(factory, languages=["es"])
    second = await make_specialist(factory, languages=["en"])
    case = await factory.make_case(org.id, languages=["es"], urgency="emergency")
    r = await client.post(
        f"{API}/cases/{case.id}/offers",
        json={"auto": True, "count": 1},
        headers=factory.headers(coord),
    )
    (offer,) = r.json()["items"]
    assert offer["specialist_id"] == first.id

    await _restart(database_url)
    # Time passes while the process is down: the offer's deadline goes by.
    async with sessionmaker()() as s:
        await s.execute(
            update(Offer)
            .where(Offer.id == offer["id"])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await s.commit()
    await jobs.expire_offers()

    offers = await offers_of(case.id)
    assert [(o.specialist_id, o.status) for o in offers] == [
        (first.id, "expired"),
        (second.id, "pending"),
    ]
    assert offers[1].expires_at > utcnow() + timedelta(minutes=9)
    assert [e.audience for e in await events("offer.expired")] == [[first.id]]
    assert (await case_status(case.id)).status == "offered"
    # The lapsed offer counts against responsiveness.
    r = await client.get(f"{API}/cases/{case.id}/candidates", headers=factory.headers(coord))
    parts = {c["specialist_id"]: c["parts"] for c in r.json()["items"]}
    assert parts[first.id]["responsiveness"] < parts[second.id]["responsiveness"]
    # A second pass has nothing to do.
    await jobs.expire_offers()
    assert len(await offers_of(case.id)) == 2

    # When the last one lapses too, the case is unmatched and coordinators are told.
    async with sessionmaker()() as s:
        await s.execute(
            update(Offer)
            .where(Offer.id == offers[1].id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
    await jobs.expire_offers()
    assert (await case_status(case.id)).status == "unmatched"
    (alert,) = await events("matching.unmatched", case.id)
    assert alert.audience == [coord.id]


async def test_new_cases_are_offered_by_the_background_pass(client, factory):
    org = await factory.make_org()
    specialists = [await make_specialist(factory) for _ in range(4)]
    urgent = await factory.make_case(org.id, urgency="emergency")
    routine = await factory.make_case(org.id, urgency="routine")
    nobody = await factory.make_case(org.id, specialty="neurology")
    await jobs.offer_new_cases()
    assert len(await offers_of(urgent.id)) == 3
    assert len(await offers_of(routine.id)) == 2
    assert {o.specialist_id for o in await offers_of(urgent.id)} <= {s.id for s in specialists}
    assert (await case_status(urgent.id)).status == "offered"
    assert (await case_status(nobody.id)).status == "unmatched"
    # Already offered cases are left alone by the next pass.
    await jobs.offer_new_cases()
    assert len(await offers_of(urgent.id)) == 3


async def test_offers_left_on_a_cancelled_case_are_withdrawn(client, factory):
    org = await factory.make_org()
    sp = await make_specialist(factory)
    case = await factory.make_case(org.id, status="cancelled")
    offer = await factory.make_offer(case.id, sp.id)
    await jobs.expire_offers()
    assert (await offers_of(case.id))[0].status == "withdrawn"
    r = await client.post(f"{API}/offers/{offer.id}/accept", headers=factory.headers(sp))
    assert r.status_code == 409


async def test_cancelling_withdraws_pending_offers_at_once(client, factory):
    """No background pass needed: the specialists lose sight of the case in the cancel's
    own transaction, and hear of it (offer.withdrawn)."""
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id, status="offered")
    specialists = [await make_specialist(factory) for _ in range(2)]
    offers = [await factory.make_offer(case.id, sp.id) for sp in specialists]
    sp_h = factory.headers(specialists[0])
    assert (await client.get(f"{API}/cases/{case.id}", headers=sp_h)).status_code == 200
    r = await client.post(
        f"{API}/cases/{case.id}/cancel",
        json={"reason": "Seen at the district hospital"},
        headers=factory.headers(clinician),
    )
    assert r.status_code == 200, r.text
    assert [o.status for o in await offers_of(case.id)] == ["withdrawn", "withdrawn"]
    assert (await client.get(f"{API}/cases/{case.id}", headers=sp_h)).status_code == 404
    listed = (await client.get(f"{API}/cases", headers=sp_h)).json()["items"]
    assert case.id not in [i["id"] for i in listed]
    withdrawn = await events("offer.withdrawn")
    assert sorted(e.resource_id for e in withdrawn) == sorted(o.id for o in offers)
    accepted = await client.post(
        f"{API}/offers/{offers[1].id}/accept", headers=factory.headers(specialists[1])
    )
    assert accepted.status_code == 409


async def test_cancel_racing_accepts_leaves_one_consistent_outcome(client, factory):
    """A cancel and five accepts at once: the case ends cancelled, at most one offer was
    accepted (before the cancel), and no offer is left pending."""
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id, status="offered")
    specialists = [await make_specialist(factory) for _ in range(5)]
    offers = [await factory.make_offer(case.id, sp.id) for sp in specialists]

    async def accept(sp, offer):
        return await client.post(f"{API}/offers/{offer.id}/accept", headers=factory.headers(sp))

    cancel = client.post(f"{API}/cases/{case.id}/cancel", headers=factory.headers(clinician))
    results = await asyncio.gather(
        cancel, *(accept(sp, o) for sp, o in zip(specialists, offers, strict=True))
    )
    assert results[0].status_code == 200, results[0].text
    accepted = [r for r in results[1:] if r.status_code == 200]
    assert len(accepted) <= 1 and all(r.status_code in (200, 409) for r in results[1:])
    statuses = sorted(o.status for o in await offers_of(case.id))
    assert "pending" not in statuses and statuses.count("accepted") == len(accepted)
    assert (await case_status(case.id)).status == "cancelled"
