"""Registering a facility: a country is a current ISO 3166-1 code (a retired one such as
DD, East Germany, has the right shape and was once stored), and a second facility of the
same name in the same country is refused, since people pick facilities by name."""

from app.core.principal import Role
from tests.core.helpers import API, assert_problem

BODY = {"name": "Hospital Misión Yacuiba", "country": "BO", "timezone": "America/La_Paz"}


async def test_a_retired_country_code_is_refused_by_its_field(client, factory):
    h = factory.headers(await factory.make_user(Role.coordinator))
    for code in ("DD", "SU", "YU", "ZZ"):
        r = await client.post(f"{API}/organizations", headers=h, json={**BODY, "country": code})
        assert_problem(r, 422, "validation-error")
        assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
            ("/country", "country_code")
        ]
    r = await client.post(f"{API}/organizations", headers=h, json=BODY)  # today's Bolivia
    assert r.status_code == 201 and r.json()["country"] == "BO"


async def test_the_same_name_in_the_same_country_is_refused(client, factory):
    h = factory.headers(await factory.make_user(Role.coordinator))
    first = await client.post(f"{API}/organizations", headers=h, json=BODY)
    assert first.status_code == 201
    again = await client.post(
        f"{API}/organizations", headers=h, json={**BODY, "name": " hospital misión YACUIBA "}
    )
    assert_problem(again, 409, "facility-exists")
    assert again.json()["organization_id"] == first.json()["id"]
    r = await client.get(f"{API}/organizations", headers=h)
    assert [o["id"] for o in r.json()["items"]] == [first.json()["id"]]
    elsewhere = await client.post(
        f"{API}/organizations", headers=h, json={**BODY, "country": "AR", "timezone": "UTC"}
    )
    assert elsewhere.status_code == 201


async def test_renaming_into_another_facilitys_name_is_refused_too(client, factory):
    h = factory.headers(await factory.make_user(Role.coordinator))
    first = (await client.post(f"{API}/organizations", headers=h, json=BODY)).json()
    other = await client.post(
        f"{API}/organizations", headers=h, json={**BODY, "name": "Puesto de Salud Yacuiba"}
    )
    r = await client.patch(
        f"{API}/organizations/{other.json()['id']}", headers=h, json={"name": BODY["name"]}
    )
    assert_problem(r, 409, "facility-exists")
    assert r.json()["organization_id"] == first["id"]
    # Its own name again (or another case of it) is no clash.
    r = await client.patch(
        f"{API}/organizations/{first['id']}", headers=h, json={"name": BODY["name"].upper()}
    )
    assert r.status_code == 200, r.text
