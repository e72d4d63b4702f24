"""The facility list: who sees which facilities, the country filter, and that a listed
facility reads exactly as the facility does on its own."""

from app.core.principal import Role
from tests.core.helpers import API


async def _ids(client, h, **params) -> list[str]:
    r = await client.get(f"{API}/organizations", params=params, headers=h)
    assert r.status_code == 200, r.text
    return [o["id"] for o in r.json()["items"]]


async def test_a_facility_clinician_lists_only_their_own(client, factory):
    mine = await factory.make_org(country="NP")
    other = await factory.make_org(country="NP")
    clinician = factory.headers(await factory.make_user(Role.clinician, organization_id=mine.id))
    coordinator = factory.headers(await factory.make_user(Role.coordinator))
    assert await _ids(client, clinician) == [mine.id]
    assert await _ids(client, clinician, country="NP", limit=1) == [mine.id]
    assert await _ids(client, coordinator) == [other.id, mine.id]  # newest first


async def test_the_country_filter_takes_either_case(client, factory):
    kenya = await factory.make_org(country="KE")
    haiti = await factory.make_org(country="HT")
    h = factory.headers(await factory.make_user(Role.admin))
    assert await _ids(client, h, country="ht") == [haiti.id]
    assert await _ids(client, h, country="KE") == [kenya.id]
    assert await _ids(client, h, country="AR") == []
    # Paging within the filter: the cursor carries on under it.
    more = await factory.make_org(country="KE")
    r = await client.get(f"{API}/organizations", params={"country": "ke", "limit": 1}, headers=h)
    page = r.json()
    assert [o["id"] for o in page["items"]] == [more.id]
    nxt = await _ids(client, h, country="ke", limit=1, cursor=page["next_cursor"])
    assert nxt == [kenya.id]


async def test_a_listed_facility_reads_as_the_facility_itself(client, factory):
    org = await factory.make_org(
        languages=["ne", "en"], local_resources={"text": "x-ray, no CT", "tags": ["xray"]}
    )
    h = factory.headers(await factory.make_user(Role.admin))
    listed = (await client.get(f"{API}/organizations", headers=h)).json()["items"]
    one = (await client.get(f"{API}/organizations/{org.id}", headers=h)).json()
    assert listed == [one]
    assert one["local_resources"] == {"text": "x-ray, no CT", "tags": ["xray"]}
    assert one["languages"] == ["ne", "en"]
