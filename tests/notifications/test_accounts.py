"""Invitations and password resets by emailed link: single use, expiring, stored hashed; a
reset never says whether an email exists; a reset revokes every refresh token."""

import re
from datetime import timedelta

from sqlalchemy import select

from app.core.config import get_settings
from app.core.db import sessionmaker
from app.core.principal import Role
from app.notifications.models import AccountToken
from tests.notifications.support import API, send_all, text_of

PASSWORD = "correct-horse-battery"


async def _login(client, email, password):
    return await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )


def _token(mail, path: str) -> str:
    m = re.search(rf"https://consult\.example\.org/{path}/([A-Za-z0-9_-]+)", text_of(mail))
    assert m, text_of(mail)
    return m.group(1)


async def _invite(client, factory, smtp, **body):
    coord = await factory.make_user(Role.coordinator)
    r = await client.post(
        f"{API}/invitations",
        json={"email": "new.volunteer@example.org", "role": "specialist", **body},
        headers=factory.headers(coord),
    )
    assert r.status_code == 201, r.text
    assert await send_all() == 1
    [mail] = smtp.to("new.volunteer@example.org")
    return r.json(), _token(mail, "invitations")


async def test_an_invited_volunteer_sets_a_password_once(client, factory, smtp):
    inv, token = await _invite(client, factory, smtp)
    assert "token" not in inv and token not in str(inv)
    async with sessionmaker()() as s:
        row = await s.scalar(select(AccountToken))
        # Stored hashed: nothing in the row is the token.
        assert token not in {str(v) for v in row.model_dump().values()}
    r = await client.post(
        f"{API}/invitations/{token}/accept", json={"name": "Dr Amara Obi", "password": PASSWORD}
    )
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "specialist" and r.json()["email"] == "new.volunteer@example.org"
    assert (await _login(client, "new.volunteer@example.org", PASSWORD)).status_code == 200
    again = await client.post(
        f"{API}/invitations/{token}/accept", json={"name": "Mallory", "password": "mallory-pass-12"}
    )
    assert again.status_code == 410 and again.json()["type"].endswith("/link-expired")
    unknown = await client.post(
        f"{API}/invitations/{'A' * 43}/accept", json={"name": "M", "password": "mallory-pass-12"}
    )
    assert unknown.status_code == 404


async def test_an_invitation_expires(client, factory, smtp, clock):
    inv, token = await _invite(client, factory, smtp)
    clock.advance(timedelta(days=get_settings().invitation_valid_days, seconds=1))
    r = await client.post(
        f"{API}/invitations/{token}/accept", json={"name": "Late", "password": PASSWORD}
    )
    assert r.status_code == 410, r.text
    assert (await _login(client, "new.volunteer@example.org", PASSWORD)).status_code == 400


async def test_who_may_invite_whom(client, factory, smtp):
    org = await factory.make_org()
    coord = await factory.make_user(Role.coordinator)
    spec = await factory.make_user(Role.specialist)
    clin = await factory.make_user(Role.clinician, organization_id=org.id)

    async def invite(who, **body):
        return await client.post(
            f"{API}/invitations",
            json={"email": "x@example.org", "role": "specialist", **body},
            headers=factory.headers(who),
        )

    assert (await invite(spec)).status_code == 403
    assert (await invite(clin)).status_code == 403
    assert (await invite(coord, role="admin")).status_code == 403
    assert (await invite(coord, role="coordinator")).status_code == 403
    # Each refusal names its field with a code (the console says it in her language), as
    # making the account directly would.
    r = await invite(coord, role="clinician")
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/organization_id", "missing")
    ]
    r = await invite(coord, role="clinician", organization_id="org_nowhere")
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/organization_id", "not_found")
    ]
    r = await invite(coord, email=spec.email.upper())
    assert r.status_code == 422 and r.json()["type"].endswith("/email-taken")
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [("/email", "taken")]
    r = await invite(coord, role="clinician", organization_id=org.id)
    assert r.status_code == 201
    assert (
        await client.post(
            f"{API}/invitations", json={"email": "y@example.org", "role": "specialist"}
        )
    ).status_code == 401


async def test_password_reset_by_link_used_once_revokes_sessions(client, factory, smtp, clock):
    user = await factory.make_user(Role.specialist, password=PASSWORD)
    tokens = (await _login(client, user.email, PASSWORD)).json()
    for email in (user.email, "nobody@example.org"):
        r = await client.post(f"{API}/auth/password-reset", json={"email": email})
        assert r.status_code == 202 and r.json() == {"status": "accepted"}
    assert await send_all() == 1  # only the real address gets mail; the answers were equal
    [mail] = smtp.to(user.email)
    token = _token(mail, "password-reset")

    r = await client.post(
        f"{API}/auth/password-reset/{token}", json={"password": "a-new-password-9"}
    )
    assert r.status_code == 204, r.text
    # Every session the user had ends, refresh tokens included.
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert r.status_code == 400
    me = await client.get(
        f"{API}/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 401
    assert (await _login(client, user.email, PASSWORD)).status_code == 400
    assert (await _login(client, user.email, "a-new-password-9")).status_code == 200

    # The link used twice: refused, and the password stays the one set first.
    r = await client.post(
        f"{API}/auth/password-reset/{token}", json={"password": "attacker-pass-1"}
    )
    assert r.status_code == 410
    assert (await _login(client, user.email, "attacker-pass-1")).status_code == 400


async def test_reset_requests_sent_together_are_capped_too(client, factory, smtp):
    """A burst of reset requests for one address (a script, or a person tapping on a slow
    link) sends three links, not one per request: counted side by side on PostgreSQL, each
    saw none sent before it."""
    import asyncio

    user = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org()).id, password=PASSWORD
    )
    rs = await asyncio.gather(
        *(client.post(f"{API}/auth/password-reset", json={"email": user.email}) for _ in range(8))
    )
    assert [r.status_code for r in rs] == [202] * 8
    assert await send_all() == 3
    assert len(smtp.to(user.email)) == 3


async def test_a_reset_link_expires_and_requests_are_capped(client, factory, smtp, clock):
    user = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org()).id, password=PASSWORD
    )
    for _ in range(5):
        r = await client.post(f"{API}/auth/password-reset", json={"email": user.email.upper()})
        assert r.status_code == 202
    assert await send_all() == 3  # at most three links an hour
    token = _token(smtp.to(user.email)[0], "password-reset")
    clock.advance(timedelta(minutes=get_settings().password_reset_valid_minutes, seconds=1))
    r = await client.post(
        f"{API}/auth/password-reset/{token}", json={"password": "a-new-password-9"}
    )
    assert r.status_code == 410
    assert (await _login(client, user.email, PASSWORD)).status_code == 200


async def test_a_deactivated_user_gets_no_reset(client, factory, smtp):
    user = await factory.make_user(Role.specialist, password=PASSWORD, active=False)
    r = await client.post(f"{API}/auth/password-reset", json={"email": user.email})
    assert r.status_code == 202
    assert await send_all() == 0
