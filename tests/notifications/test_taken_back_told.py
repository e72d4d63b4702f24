"""A case taken back from a deactivated specialist reaches the coordinators as an unmatched
case that says why (not only "there is still no specialist"), with no clinical text."""

from app.core.principal import Role
from tests.notifications.support import send_all, text_of

API = "/api/v1"


async def test_the_coordinator_is_told_the_case_came_back_and_why(client, factory, smtp):
    org = await factory.make_org(country="NP")
    coordinator = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
    specialist = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, assigned_specialist_id=specialist.id)
    r = await client.patch(
        f"{API}/users/{specialist.id}", json={"active": False}, headers=factory.headers(admin)
    )
    assert r.status_code == 200, r.text
    await send_all()
    [mail] = smtp.to(coordinator.email)
    body = text_of(mail)
    assert body.startswith("There is still no specialist for a routine case in Dermatology")
    assert (
        "Its specialist's account was deactivated before she answered: the case is back on "
        "your queue to be offered again."
    ) in body
    assert f"https://consult.example.org/cases/{case.id}" in body
    for secret in (case.question, case.summary, case.patient_reference):
        assert secret not in mail.as_string()
