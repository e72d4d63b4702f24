"""Invitations waiting for an answer: staff see them, take one back (its link stops
working), and inviting the same person again leaves only the newest link working."""

import re

from app.core.principal import Role
from tests.notifications.support import API, send_all, text_of

PASSWORD = "correct-horse-battery"


def _links(smtp, to: str) -> list[str]:
    found = []
    for mail in smtp.to(to):
        m = re.search(r"https://consult\.example\.org/invitations/([A-Za-z0-9_-]+)", text_of(mail))
        assert m, text_of(mail)
        found.append(m.group(1))
    return found


async def _accept(client, token: str):
    return await client.post(
        f"{API}/invitations/{token}/accept", json={"name": "Dr Amara Obi", "password": PASSWORD}
    )


async def test_pending_invitations_are_listed_and_taken_back(client, factory, smtp):
    coord = await factory.make_user(Role.coordinator)
    h = factory.headers(coord)
    sent = []
    for email in ("amara@example.org", "tomas@example.org"):
        r = await client.post(
            f"{API}/invitations", json={"email": email, "role": "specialist"}, headers=h
        )
        assert r.status_code == 201, r.text
        sent.append(r.json())
    assert await send_all() == 2

    r = await client.get(f"{API}/invitations", headers=h)
    assert r.status_code == 200, r.text
    listed = r.json()["items"]
    assert [i["email"] for i in listed] == ["tomas@example.org", "amara@example.org"]
    assert listed[0]["created_by_id"] == coord.id and r.json()["next_cursor"] is None
    r = await client.get(f"{API}/invitations", params={"limit": 1}, headers=h)
    nxt = r.json()["next_cursor"]
    r = await client.get(f"{API}/invitations", params={"limit": 1, "cursor": nxt}, headers=h)
    assert [i["email"] for i in r.json()["items"]] == ["amara@example.org"]
    # Not for anyone else to see.
    clinician = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org()).id
    )
    r = await client.get(f"{API}/invitations", headers=factory.headers(clinician))
    assert r.status_code == 403

    # Taken back: gone from the list, and her link no longer works.
    r = await client.delete(f"{API}/invitations/{sent[0]['id']}", headers=h)
    assert r.status_code == 204, r.text
    r = await client.get(f"{API}/invitations", headers=h)
    assert [i["email"] for i in r.json()["items"]] == ["tomas@example.org"]
    [link] = _links(smtp, "amara@example.org")
    r = await _accept(client, link)
    assert r.status_code == 410 and r.json()["type"].endswith("/link-expired")
    # Taking it back twice, or an unknown one: 404, nothing else changes.
    r = await client.delete(f"{API}/invitations/{sent[0]['id']}", headers=h)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = await client.delete(f"{API}/invitations/acct_nobody", headers=h)
    assert r.status_code == 404
    [link] = _links(smtp, "tomas@example.org")
    assert (await _accept(client, link)).status_code == 201
    r = await client.get(f"{API}/invitations", headers=h)
    assert r.json()["items"] == []  # accepted: not waiting any more


async def test_inviting_again_leaves_only_the_newest_link_working(client, factory, smtp):
    coord = await factory.make_user(Role.coordinator)
    h = factory.headers(coord)
    for role in ("interpreter", "specialist"):  # the first was sent with the wrong role
        r = await client.post(
            f"{API}/invitations", json={"email": "amara@example.org", "role": role}, headers=h
        )
        assert r.status_code == 201, r.text
        assert await send_all() == 1  # each mail goes before the next invitation
    first, second = _links(smtp, "amara@example.org")
    r = await client.get(f"{API}/invitations", headers=h)
    assert [(i["email"], i["role"]) for i in r.json()["items"]] == [
        ("amara@example.org", "specialist")
    ]
    assert (await _accept(client, first)).status_code == 410
    r = await _accept(client, second)
    assert r.status_code == 201 and r.json()["role"] == "specialist"


async def test_a_coordinator_cannot_undo_an_admins_invitation_by_inviting_again(client, factory):
    admin, coord = await factory.make_user(Role.admin), await factory.make_user(Role.coordinator)
    body = {"email": "lead@example.org", "role": "coordinator"}
    r = await client.post(f"{API}/invitations", json=body, headers=factory.headers(admin))
    assert r.status_code == 201, r.text
    sent = r.json()
    # She may neither take it back nor replace it by inviting the address herself.
    r = await client.delete(f"{API}/invitations/{sent['id']}", headers=factory.headers(coord))
    assert r.status_code == 403, r.text
    r = await client.post(
        f"{API}/invitations",
        json={**body, "role": "specialist"},
        headers=factory.headers(coord),
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/invitation-waiting"), r.text
    r = await client.get(f"{API}/invitations", headers=factory.headers(admin))
    assert [i["id"] for i in r.json()["items"]] == [sent["id"]]  # still waiting, unchanged


async def test_two_invitations_to_one_address_at_once_leave_one_link(client, factory):
    import asyncio

    coord = await factory.make_user(Role.coordinator)
    h = factory.headers(coord)
    body = {"email": "amara@example.org", "role": "specialist"}
    answers = await asyncio.gather(
        *(client.post(f"{API}/invitations", json=body, headers=h) for _ in range(4))
    )
    assert [r.status_code for r in answers] == [201] * 4, [r.text for r in answers]
    r = await client.get(f"{API}/invitations", headers=h)
    assert len(r.json()["items"]) == 1  # the last one taken; the others withdrawn
