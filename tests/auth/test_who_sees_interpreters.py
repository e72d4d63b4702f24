"""Who finds whom in the people directory (GET /users): a case's assigned specialist may
add an interpreter to it (POST /cases/{id}/participants), so a specialist finds the
programme's interpreters; nothing else about her view widens (no clinician, no admin), and
an interpreter still finds no other interpreter."""

from app.core.principal import Role

API = "/api/v1"


async def _listed(client, factory, who, role: str) -> set[str]:
    r = await client.get(f"{API}/users", params={"role": role}, headers=factory.headers(who))
    assert r.status_code == 200, r.text
    return {u["id"] for u in r.json()["items"]}


async def test_a_specialist_finds_interpreters_and_adds_one_to_her_case(client, factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    interpreter = await factory.make_user(Role.interpreter, name="Rosa Quispe")
    other_interpreter = await factory.make_user(Role.interpreter, name="Amadou Diallo")
    admin = await factory.make_user(Role.admin)

    assert await _listed(client, factory, specialist, "interpreter") == {
        interpreter.id,
        other_interpreter.id,
    }
    r = await client.get(f"{API}/users/{interpreter.id}", headers=factory.headers(specialist))
    assert r.status_code == 200 and r.json()["name"] == "Rosa Quispe"
    # Her view widens by the interpreters only.
    assert await _listed(client, factory, specialist, "clinician") == set()
    assert await _listed(client, factory, specialist, "admin") == set()
    for hidden in (clinician, admin):
        r = await client.get(f"{API}/users/{hidden.id}", headers=factory.headers(specialist))
        assert r.status_code == 404, r.text
    # An interpreter finds herself, not the others.
    assert await _listed(client, factory, interpreter, "interpreter") == {interpreter.id}
    r = await client.get(
        f"{API}/users/{other_interpreter.id}", headers=factory.headers(interpreter)
    )
    assert r.status_code == 404

    # What she finds, she adds to the case she is assigned.
    case = await factory.make_case(
        org.id, status="assigned", assigned_specialist_id=specialist.id, interpreter_needed=True
    )
    r = await client.post(
        f"{API}/cases/{case.id}/participants",
        json={"user_id": interpreter.id, "role": "interpreter"},
        headers=factory.headers(specialist),
    )
    assert r.status_code == 201, r.text
