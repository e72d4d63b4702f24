"""One refusal, one code: a role that may not act gets 403 `forbidden`, an API client
missing a scope 403 `insufficient-scope`; who may create users and facilities is unchanged."""

from app.core.principal import Role

API = "/api/v1"


def _refused(r, code: str) -> None:
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/" + code), r.json()


def _user(org_id: str | None, role: Role) -> dict:
    return {
        "email": f"new.{role.value}.{org_id or 'x'}@example.org",
        "name": "New person",
        "role": role.value,
        "organization_id": org_id if role is Role.clinician else None,
        "password": "a-long-password-1",
    }


async def test_who_may_create_users(client, factory):
    org = await factory.make_org()
    app_client = await factory.make_client(org.id)
    coordinator = await factory.make_user(Role.coordinator)
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    admin = await factory.make_user(Role.admin)

    r = await client.post(
        f"{API}/users", json=_user(org.id, Role.clinician), headers=factory.headers(app_client)
    )
    _refused(r, "forbidden")
    r = await client.post(
        f"{API}/users", json=_user(org.id, Role.clinician), headers=factory.headers(clinician)
    )
    _refused(r, "forbidden")
    r = await client.post(
        f"{API}/users", json=_user(None, Role.admin), headers=factory.headers(coordinator)
    )
    _refused(r, "forbidden")
    r = await client.post(
        f"{API}/users", json=_user(org.id, Role.clinician), headers=factory.headers(coordinator)
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/users", json=_user(None, Role.admin), headers=factory.headers(admin)
    )
    assert r.status_code == 201, r.text


async def test_who_may_register_and_change_facilities(client, factory):
    org = await factory.make_org()
    body = {"name": "Mission hospital", "country": "NP", "timezone": "Asia/Kathmandu"}
    app_client = await factory.make_client(org.id)
    for who in (
        app_client,
        await factory.make_user(Role.clinician, organization_id=org.id),
        await factory.make_user(Role.specialist),
    ):
        _refused(
            await client.post(f"{API}/organizations", json=body, headers=factory.headers(who)),
            "forbidden",
        )
    coordinator = await factory.make_user(Role.coordinator)
    r = await client.post(f"{API}/organizations", json=body, headers=factory.headers(coordinator))
    assert r.status_code == 201, r.text
    # The facility's own app may read it but not change it; a narrow app lacks the scope.
    change = {"local_resources": {"text": "ultrasound", "tags": ["ultrasound"]}}
    _refused(
        await client.patch(
            f"{API}/organizations/{org.id}", json=change, headers=factory.headers(app_client)
        ),
        "forbidden",
    )
    narrow = await factory.make_client(org.id, scopes=["rounds:read"])
    _refused(
        await client.get(f"{API}/organizations/{org.id}", headers=factory.headers(narrow)),
        "insufficient-scope",
    )
