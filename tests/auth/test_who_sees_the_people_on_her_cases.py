"""A specialist or interpreter on a case finds the people on it in the directory (GET
/users), the referring clinician above all: the room, the note and the follow-ups name
them from there, and without it the remote helper could only read "Clinician". Nobody else
widens: not a specialist with only an offer of the case, not one on another case, and no
clinician who is not on one of her cases."""

from app.core.principal import Role

API = "/api/v1"


async def _listed(client, factory, who, role: str) -> set[str]:
    r = await client.get(f"{API}/users", params={"role": role}, headers=factory.headers(who))
    assert r.status_code == 200, r.text
    return {u["id"] for u in r.json()["items"]}


async def _read(client, factory, who, user) -> int:
    r = await client.get(f"{API}/users/{user.id}", headers=factory.headers(who))
    return r.status_code


async def test_the_people_on_her_cases_and_nobody_else(client, factory):
    org, other_org = await factory.make_org(), await factory.make_org()
    referring = await factory.make_user(
        Role.clinician, organization_id=org.id, name="Dr Amina Odhiambo"
    )
    colleague = await factory.make_user(Role.clinician, organization_id=org.id)
    elsewhere = await factory.make_user(Role.clinician, organization_id=other_org.id)
    specialist = await factory.make_user(Role.specialist)
    second = await factory.make_user(Role.specialist)
    offered_only = await factory.make_user(Role.specialist)
    interpreter = await factory.make_user(Role.interpreter)
    beside_her = await factory.make_user(Role.interpreter)
    bystander = await factory.make_user(Role.interpreter)

    case = await factory.make_case(
        org.id,
        status="assigned",
        assigned_specialist_id=specialist.id,
        submitted_by_id=referring.id,
    )
    await factory.add_participant(case.id, interpreter.id, "interpreter")
    await factory.add_participant(case.id, beside_her.id, "interpreter")
    await factory.add_participant(case.id, second.id, "specialist")
    offered = await factory.make_case(org.id, status="offered", submitted_by_id=colleague.id)
    await factory.make_offer(offered.id, offered_only.id)

    for helper in (specialist, second, interpreter):
        r = await client.get(f"{API}/users/{referring.id}", headers=factory.headers(helper))
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "Dr Amina Odhiambo"
        assert await _listed(client, factory, helper, "clinician") == {referring.id}
        assert await _read(client, factory, helper, colleague) == 404
        assert await _read(client, factory, helper, elsewhere) == 404
    # An interpreter finds no interpreter by role: the one beside her on the case, she does.
    assert await _listed(client, factory, interpreter, "interpreter") == {
        interpreter.id,
        beside_her.id,
    }
    assert await _read(client, factory, interpreter, bystander) == 404
    # Found, not changed: her account is still hers and the staff's.
    r = await client.patch(
        f"{API}/users/{referring.id}", json={"name": "X"}, headers=factory.headers(specialist)
    )
    assert r.status_code == 403, r.text

    # An offer is not a place on the case; other cases are not hers.
    for outsider in (offered_only, bystander):
        assert await _listed(client, factory, outsider, "clinician") == set()
        assert await _read(client, factory, outsider, referring) == 404
    assert await _read(client, factory, offered_only, colleague) == 404
