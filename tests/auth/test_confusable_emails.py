"""Look-alike addresses (issue 16): an account whose address could pass for another's on
screen (a Cyrillic "а" in "admin@...", a domain in Cyrillic letters drawn like Latin ones)
lets an attacker be taken for someone else, in a user list, an audit trail, an invitation.
Every way an address gets in refuses it."""

import pytest

from app.auth import service
from app.core.db import sessionmaker
from app.core.errors import Unprocessable
from app.core.principal import Role
from tests.core.helpers import API, assert_problem

PASSWORD = "correct-horse-battery"
REAL = "coordinator@clinic.example.org"

LOOK_ALIKES = [
    "сoordinator@clinic.example.org",  # Cyrillic с
    "coordinаtor@clinic.example.org",  # Cyrillic а
    "coordinator@cliniс.example.org",  # Cyrillic с in the domain
    "coordinator@clinic.exаmple.org",  # Cyrillic а in the domain
    "coordınator@clinic.example.org",  # Latin dotless ı
    "coordinator@xn--80ak6aa92e.com",  # "аррӏе" in Cyrillic, sent as IDNA
    "coordinator@аррӏе.com",  # the same, as Unicode
    "c\u0338oordinator@clinic.example.org",  # a combining mark on a Latin letter
    "coordinator۱@clinic.example.org",  # an Extended Arabic-Indic one
]


def _body(email: str) -> dict[str, str]:
    return {"email": email, "name": "Someone", "role": "coordinator", "password": PASSWORD}


async def test_a_look_alike_of_an_existing_address_is_refused(client, factory):
    admin = factory.headers(await factory.make_user(Role.admin))
    r = await client.post(f"{API}/users", json=_body(REAL), headers=admin)
    assert r.status_code == 201, r.text
    for email in LOOK_ALIKES:
        r = await client.post(f"{API}/users", json=_body(email), headers=admin)
        problem = assert_problem(r, 422)
        assert problem["errors"][0]["pointer"] == "/email", (email, problem)
    listed = await client.get(f"{API}/users?limit=200", headers=admin)
    assert [u["email"] for u in listed.json()["items"] if u["role"] == "coordinator"] == [REAL]


async def test_another_form_of_an_existing_address_is_the_same_address(client, factory):
    admin = factory.headers(await factory.make_user(Role.admin))
    assert (await client.post(f"{API}/users", json=_body(REAL), headers=admin)).status_code == 201
    # Full-width letters fold (NFKC) onto the address that exists: taken, not a second one.
    fullwidth = "ＣＯＯＲＤＩＮＡＴＯＲ@clinic.example.org"
    r = await client.post(f"{API}/users", json=_body(fullwidth), headers=admin)
    assert_problem(r, 422, "email-taken")
    # And the person may sign in with either form.
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": fullwidth, "password": PASSWORD},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "email",
    ["врач@больница.рф", "josé.pérez@hospital.example.org", "田中@example.jp"],
)
async def test_addresses_in_one_script_are_welcome(client, factory, email):
    admin = factory.headers(await factory.make_user(Role.admin))
    r = await client.post(f"{API}/users", json=_body(email), headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["email"] == email


async def test_the_service_refuses_look_alikes_whatever_the_way_in(app):
    """Bootstrap, the demo and invitations create users through the service, not a schema."""
    for email in LOOK_ALIKES:
        async with sessionmaker()() as s:
            with pytest.raises(Unprocessable) as refused:
                await service.create_user(s, None, {**_body(email), "role": Role.admin.value})
            assert refused.value.code == "email-confusable"
            assert refused.value.errors and refused.value.errors[0]["pointer"] == "/email"
