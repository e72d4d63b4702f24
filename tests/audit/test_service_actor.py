"""What the service does on its own schedule is audited as the service's doing (`service`),
not as a caller who was not signed in (`anonymous`, which it used to say), and what a
person does as hers."""

from datetime import timedelta

from sqlalchemy import update

from app.cases.models import Offer
from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from app.matching import jobs
from tests.matching.support import API
from tests.specialists.support import make_specialist


async def test_a_lapsed_offer_and_the_next_one_are_the_services_doing(client, factory):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
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
    async with sessionmaker()() as s:
        await s.execute(
            update(Offer)
            .where(Offer.id == offer["id"])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await s.commit()
    await jobs.expire_offers()

    r = await client.get("/audit", params={"limit": 200}, headers=factory.headers(admin))
    assert r.status_code == 200
    seen = [
        (e["action"], e["actor_kind"], e["actor_id"])
        for e in reversed(r.json()["items"])
        if e["action"] in ("offer.create", "offer.expire")
    ]
    assert seen == [
        ("offer.create", "user", coord.id),
        ("offer.expire", "service", None),
        ("offer.create", "service", None),
    ]
    last = next(e for e in r.json()["items"] if e["action"] == "offer.create")
    assert last["detail"] == f"case={case.id} specialist={second.id}"
