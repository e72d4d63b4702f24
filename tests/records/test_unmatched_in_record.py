"""A case's record says when it became unmatched: the step between the last decline and the
status the case shows; and again each time, when an offer made afterwards ends the same way."""

from app.core.principal import Role
from tests.specialists.support import make_specialist

API = "/api/v1"


async def test_the_record_says_when_the_case_became_unmatched(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    coord = await factory.make_user(Role.coordinator)
    grace = await make_specialist(factory, languages=["es"])
    case = await factory.make_case(org.id, languages=["es"], submitted_by_id=clin.id)

    async def offer_and_decline(who, reason: str) -> None:
        r = await client.post(
            f"{API}/cases/{case.id}/offers", json={"auto": True}, headers=factory.headers(coord)
        )
        assert r.status_code == 201, r.text
        [offer] = r.json()["items"]
        r = await client.post(
            f"{API}/offers/{offer['id']}/decline",
            json={"reason": reason},
            headers=factory.headers(who),
        )
        assert r.status_code == 200, r.text

    await offer_and_decline(grace, "Busy in clinic")
    r = await client.get(f"{API}/cases/{case.id}/record", headers=factory.headers(clin))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "unmatched"
    entries = r.json()["entries"]
    assert [e["type"] for e in entries] == ["intake", "offer", "offer_declined", "unmatched"]
    declined, unmatched = entries[2], entries[3]
    assert declined["reason"] == "Busy in clinic"
    assert unmatched["at"] >= declined["at"] and unmatched["id"] == case.id
    assert "payload" not in unmatched  # the event's own fields stay inside

    # Someone new joins the programme, is offered it, declines: unmatched once more.
    bo = await make_specialist(factory, languages=["es"])
    await offer_and_decline(bo, "Still busy")
    r = await client.get(f"{API}/cases/{case.id}/record", headers=factory.headers(coord))
    kinds = [e["type"] for e in r.json()["entries"]]
    assert kinds.count("unmatched") == 2, kinds
    assert kinds[-1] == "unmatched", kinds
