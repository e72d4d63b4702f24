"""Someone added to a case's people (an interpreter, a second specialist) is told, in her
language, with a link to the case and no clinical text; the one who added her is not. An
interpreter used to learn of it only by opening her case list."""

from app.core.principal import Role
from tests.notifications.support import send_all, text_of

API = "/api/v1"


async def test_an_interpreter_added_to_a_case_is_told(client, factory, smtp):
    org = await factory.make_org(country="NP")
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    interpreter = await factory.make_user(Role.interpreter)
    r = await client.put(
        f"{API}/me/notification-preferences",
        json={"language": "es", "timezone": "America/Lima"},
        headers=factory.headers(interpreter),
    )
    assert r.status_code == 200, r.text
    case = await factory.make_case(
        org.id,
        assigned_specialist_id=specialist.id,
        submitted_by_id=clinician.id,
        urgency="urgent",
    )
    r = await client.post(
        f"{API}/cases/{case.id}/participants",
        json={"user_id": interpreter.id, "role": "interpreter"},
        headers=factory.headers(specialist),
    )
    assert r.status_code == 201, r.text

    items = (await client.get(f"{API}/notifications", headers=factory.headers(interpreter))).json()
    [told] = items["items"]
    assert told["kind"] == "case_added" and told["link"].endswith(f"/cases/{case.id}")
    for who in (specialist, clinician):  # the one who added her, and the case's clinician
        mine = (await client.get(f"{API}/notifications", headers=factory.headers(who))).json()
        assert [n["kind"] for n in mine["items"]] == [], who.role

    assert await send_all() == 1
    [mail] = smtp.to(interpreter.email)
    # (The header is folded into encoded words; the space after its colon is folding.)
    assert (
        str(mail["Subject"]).strip() == "Se le añadió a una consulta: Dermatología, urgente (Nepal)"
    )
    body = text_of(mail)
    assert body.startswith("Se le añadió como intérprete a un caso urgente de Dermatología")
    assert f"https://consult.example.org/cases/{case.id}" in body
    for secret in (case.question, case.summary, case.patient_reference):
        assert secret not in mail.as_string()


async def test_being_added_to_a_case_is_a_kind_interpreters_and_specialists_choose(client, factory):
    org = await factory.make_org()
    for role, listed in (
        (Role.interpreter, True),
        (Role.specialist, True),
        (Role.clinician, False),
        (Role.coordinator, False),
    ):
        user = await factory.make_user(
            role, organization_id=org.id if role == Role.clinician else None
        )
        r = await client.get(f"{API}/me/notification-preferences", headers=factory.headers(user))
        assert r.status_code == 200, r.text
        assert ("case_added" in r.json()["channels"]) is listed, role
        if listed:
            assert sorted(r.json()["channels"]["case_added"]) == ["email", "in_app"]
