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


async def test_an_api_client_missing_a_scope_is_told_so_on_every_case_route(client, factory):
    """A partner app configured with the wrong scope is told which one it lacks, on the
    case's notes, follow-ups, feedback, record and FHIR reads too. It used to get empty
    lists (and conclude the facility had no cases) or "No such case." for its own."""
    from datetime import timedelta

    from app.core.clock import utcnow
    from tests.notes.helpers import make_note
    from tests.specialists.support import make_specialist

    org = await factory.make_org()
    spec = await make_specialist(factory)
    case = await factory.make_case(org.id, status="answered", assigned_specialist_id=spec.id)
    note = await make_note(case.id, spec.id, signed=True)
    rounds_only = factory.headers(await factory.make_client(org.id, scopes=["rounds:read"]))
    read_only = factory.headers(await factory.make_client(org.id, scopes=["cases:read"]))
    due = (utcnow() + timedelta(days=2)).isoformat()

    reads = [
        f"/cases/{case.id}/notes",
        f"/notes/{note.id}",
        f"/notes/{note.id}/versions",
        f"/cases/{case.id}/record",
        f"/follow-ups?case_id={case.id}",
        "/follow-ups/fu_any",
        "/cases",
    ]
    for path in reads:
        r = await client.get(f"{API}{path}", headers=rounds_only)
        _refused(r, "insufficient-scope")
        assert "cases:read" in r.json()["detail"], (path, r.json())
        r = await client.get(f"{API}{path}", headers=read_only)
        assert r.status_code != 403, (path, r.text)

    writes = [
        ("POST", f"/notes/{note.id}/acknowledge", {}),
        ("POST", f"/cases/{case.id}/follow-ups", {"due_at": due, "description": "Review."}),
        ("POST", f"/cases/{case.id}/feedback", {"usefulness": 5, "changed_management": True}),
        ("POST", f"/cases/{case.id}/notes", {"kind": "consult"}),
        ("PATCH", f"/notes/{note.id}", {"assessment": "x"}),
        ("POST", f"/notes/{note.id}/sign", {}),
        ("PATCH", "/follow-ups/fu_any", {"status": "done"}),
    ]
    for method, path, body in writes:
        r = await client.request(method, f"{API}{path}", json=body, headers=read_only)
        _refused(r, "insufficient-scope")
        assert "cases:write" in r.json()["detail"], (path, r.json())

    for path in (
        f"/fhir/ServiceRequest/{case.id}",
        "/fhir/ServiceRequest",
        f"/fhir/Task/{case.id}",
        "/fhir/Task",
        "/fhir/Communication/msg_any",
        f"/fhir/Communication?based-on=ServiceRequest/{case.id}",
    ):
        r = await client.get(f"{API}{path}", headers=rounds_only)
        assert r.status_code == 403, (path, r.text)
        outcome = r.json()
        assert outcome["resourceType"] == "OperationOutcome", outcome
        assert outcome["issue"][0]["code"] == "forbidden", outcome


async def test_an_api_client_refused_a_peoples_route_is_not_told_of_its_role(client, factory):
    """An app has no role: refused a route for people (the API clients, the invitations),
    it is told the route is for people signed in, not that its role may not."""
    org = await factory.make_org()
    app_client = factory.headers(await factory.make_client(org.id))
    for method, path in (("GET", "/api-clients"), ("GET", "/invitations")):
        r = await client.request(method, f"{API}{path}", headers=app_client)
        _refused(r, "forbidden")
        assert "API clients" in r.json()["detail"] and "role" not in r.json()["detail"]
