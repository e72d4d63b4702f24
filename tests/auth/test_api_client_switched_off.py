"""An admin switches a partner app off (a leaked secret, an app retired): its tokens are
refused at once, it gets no new one, and switching it on again lets it back in. Before,
neither the API nor the console could stop a registered client."""

from app.core.principal import Role

API = "/api/v1"


async def _register(client, factory, admin):
    org = await factory.make_org()
    r = await client.post(
        f"{API}/api-clients",
        json={"name": "Karnali EMR", "organization_id": org.id, "scopes": ["cases:read"]},
        headers=factory.headers(admin),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _token(client, created) -> object:
    return await client.post(
        f"{API}/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )


async def test_a_client_switched_off_is_refused_at_once_and_on_again_lets_it_in(client, factory):
    admin = await factory.make_user(Role.admin)
    created = await _register(client, factory, admin)
    r = await _token(client, created)
    assert r.status_code == 200, r.text
    bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get(f"{API}/me", headers=bearer)).status_code == 200

    url = f"{API}/api-clients/{created['id']}"
    r = await client.patch(url, json={"active": False}, headers=factory.headers(admin))
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False and r.json()["id"] == created["id"]
    assert (await client.get(f"{API}/me", headers=bearer)).status_code == 401  # at once
    r = await _token(client, created)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"

    r = await client.patch(url, json={"active": True}, headers=factory.headers(admin))
    assert r.status_code == 200 and r.json()["active"] is True
    assert (await _token(client, created)).status_code == 200


async def test_only_an_admin_switches_a_client_and_bad_input_is_refused(client, factory):
    admin = await factory.make_user(Role.admin)
    coord = await factory.make_user(Role.coordinator)
    created = await _register(client, factory, admin)
    url = f"{API}/api-clients/{created['id']}"
    r = await client.patch(url, json={"active": False}, headers=factory.headers(coord))
    assert r.status_code == 403
    r = await client.patch(url, json={"active": "maybe"}, headers=factory.headers(admin))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.patch(
        f"{API}/api-clients/cli_nobody", json={"active": False}, headers=factory.headers(admin)
    )
    assert r.status_code == 404
    r = await client.get(f"{API}/api-clients", headers=factory.headers(admin))
    assert [c["active"] for c in r.json()["items"]] == [True]  # nothing changed


async def test_the_switch_takes_true_or_false_only(client, factory):
    """ "no", 0 or "false" as text is a 422, not read as false: a careless integrator's value
    must not cut a hospital's app off (nor a person's account)."""
    org = await factory.make_org()
    admin = await factory.make_user(Role.admin)
    emr = await factory.make_client(org.id)
    person = await factory.make_user(Role.specialist)
    h = factory.headers(admin)
    for bad in ("no", "false", 0, None):
        r = await client.patch(f"{API}/api-clients/{emr.id}", json={"active": bad}, headers=h)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["pointer"] == "/active"
        if bad is not None:
            r = await client.patch(f"{API}/users/{person.id}", json={"active": bad}, headers=h)
            assert r.status_code == 422, (bad, r.text)
    r = await client.get(f"{API}/api-clients", headers=h)
    assert [c["active"] for c in r.json()["items"] if c["id"] == emr.id] == [True]
    r = await client.get(f"{API}/users/{person.id}", headers=h)
    assert r.json()["active"] is True
