"""An invitation is not spent on a password too simple to keep
(the rule: tests/auth/test_password_rules.py)."""

import re

from app.core.principal import Role
from tests.auth.test_password_rules import PASSWORD, too_simple
from tests.notifications.support import API, send_all, text_of


async def test_an_invitation_is_not_spent_on_a_simple_password(client, factory, smtp):
    coord = await factory.make_user(Role.coordinator)
    r = await client.post(
        f"{API}/invitations",
        json={"email": "new.volunteer@example.org", "role": "specialist"},
        headers=factory.headers(coord),
    )
    assert r.status_code == 201, r.text
    assert await send_all() == 1
    [mail] = smtp.to("new.volunteer@example.org")
    token = re.search(r"/invitations/([A-Za-z0-9_-]+)", text_of(mail)).group(1)
    url = f"{API}/invitations/{token}/accept"
    r = await client.post(url, json={"name": "Dr Amara Obi", "password": "1111111111"})
    too_simple(r, "/password")
    r = await client.post(url, json={"name": "Dr Amara Obi", "password": PASSWORD})
    assert r.status_code == 201, r.text
