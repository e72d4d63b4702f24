"""A password a person sets is refused when it is only repeated or sequential keys
("aaaaaaaaaa", "1234567890", "qwertyuiop": NIST SP 800-63B), wherever it is set, with a
code the console says in her language; nothing is changed by the refusal. (An
invitation: tests/notifications/test_invitation_password.py.)"""

from app.core.principal import Role
from tests.notifications.support import API

SIMPLE = ["aaaaaaaaaa", "1234567890", "0987654321", "abcdefghijkl", "QWERTYUIOP", "abababababab"]
PASSWORD = "correct-horse-battery"


def too_simple(r, pointer: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    [err] = r.json()["errors"]
    assert (err["pointer"], err["code"]) == (pointer, "password_too_simple")


async def _login(client, email, password):
    return await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )


async def test_an_admin_cannot_give_a_person_a_simple_password(client, factory):
    admin = await factory.make_user(Role.admin)
    body = {"email": "ana@example.org", "name": "Ana", "role": "specialist"}
    for simple in SIMPLE:
        r = await client.post(
            f"{API}/users", json={**body, "password": simple}, headers=factory.headers(admin)
        )
        too_simple(r, "/password")
    r = await client.post(
        f"{API}/users", json={**body, "password": PASSWORD}, headers=factory.headers(admin)
    )
    assert r.status_code == 201, r.text


async def test_a_person_cannot_change_hers_to_a_simple_one(client, factory):
    user = await factory.make_user(Role.clinician, email="lucia@example.org", password=PASSWORD)
    for simple in SIMPLE:
        r = await client.post(
            f"{API}/me/password",
            json={"current_password": PASSWORD, "new_password": simple},
            headers=factory.headers(user),
        )
        too_simple(r, "/new_password")
    assert (await _login(client, "lucia@example.org", PASSWORD)).status_code == 200
