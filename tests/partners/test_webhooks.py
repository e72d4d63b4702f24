"""Subscriptions: who may manage them, the URL rule, event names, the secret shown once."""

from datetime import timedelta

import pytest

from app.core.config import get_settings
from app.core.principal import Role
from app.core.security import create_token
from tests.partners.support import API

CASE_EVENTS = ["case.submitted", "case.assigned"]


@pytest.fixture
def strict(monkeypatch):
    """The production rule: https and public addresses only."""
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)


async def test_client_subscribes_and_sees_the_secret_once(client, factory):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    r = await client.post(
        f"{API}/webhooks", headers=h, json={"url": "http://127.0.0.1:9/hook", "events": CASE_EVENTS}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == sorted(CASE_EVENTS)
    assert body["organization_id"] == org.id and body["owner_kind"] == "client"
    assert r.headers["location"].endswith(body["id"])
    got = await client.get(f"{API}/webhooks/{body['id']}", headers=h)
    assert got.status_code == 200 and "secret" not in got.json()
    listed = await client.get(f"{API}/webhooks", headers=h)
    assert [w["id"] for w in listed.json()["items"]] == [body["id"]]
    assert "secret" not in listed.json()["items"][0]


async def test_unknown_event_name_is_422(client, factory):
    admin = await factory.make_user(Role.admin)
    r = await client.post(
        f"{API}/webhooks",
        headers=factory.headers(admin),
        json={"url": "https://example.org/hook", "events": ["case.submitted", "case.exploded"]},
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["pointer"] == "/events/1"


async def test_an_app_cannot_subscribe_to_events_its_scopes_never_let_it_read(client, factory):
    """An app is sent only what its scopes let it read (cases:read for a case's events,
    rounds:read for a round's). A subscription beyond them was accepted and then waited in
    vain; it is refused at once, naming the event and the scope, and nothing is kept."""
    org = await factory.make_org()
    cl = await factory.make_client(org.id, scopes=["cases:read", "webhooks:manage"])
    h = factory.headers(cl)
    hook = "https://example.org/hook"
    r = await client.post(
        f"{API}/webhooks",
        headers=h,
        json={"url": hook, "events": ["case.submitted", "round.updated"]},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    [error] = r.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/events/1", "scope_not_granted")
    assert "rounds:read" in error["detail"]
    assert (await client.get(f"{API}/webhooks", headers=h)).json()["items"] == []
    # A token that asked for fewer scopes than the app holds still subscribes to what the
    # app may read: deliveries follow the app's scopes, not one token's.
    tok, _ = create_token(
        cl.id, "access", timedelta(minutes=5), kind="client", scope="webhooks:manage"
    )
    narrow = {"Authorization": f"Bearer {tok}"}
    r = await client.post(
        f"{API}/webhooks", headers=narrow, json={"url": hook, "events": ["case.submitted"]}
    )
    assert r.status_code == 201, r.text
    writer = await factory.make_client(org.id, scopes=["cases:write", "webhooks:manage"])
    r = await client.post(
        f"{API}/webhooks",
        headers=factory.headers(writer),
        json={"url": hook, "events": ["note.signed"]},
    )
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/events/0", "scope_not_granted")
    assert "cases:read" in error["detail"]


async def test_a_facilitys_app_cannot_subscribe_to_the_staff_only_checkpoint(client, factory):
    """`audit.checkpoint` goes to staff only: a facility's app that subscribed would wait
    for it in vain, so it is told at once; an admin subscribes."""
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    r = await client.post(
        f"{API}/webhooks",
        headers=factory.headers(cl),
        json={"url": "https://example.org/hook", "events": ["case.submitted", "audit.checkpoint"]},
    )
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/events/1", "staff_only")
    r = await client.get(f"{API}/webhooks", headers=factory.headers(cl))
    assert r.json()["items"] == []
    admin = await factory.make_user(Role.admin)
    r = await client.post(
        f"{API}/webhooks",
        headers=factory.headers(admin),
        json={"url": "https://example.org/hook", "events": ["audit.checkpoint"]},
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hook",  # not https
        "https://127.0.0.1/hook",  # loopback
        "https://10.1.2.3/hook",  # private
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest",  # link-local (cloud metadata)
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://localhost/hook",  # resolves to loopback
        "https://0.0.0.0/hook",
        "ftp://example.org/hook",
    ],
)
async def test_unsafe_urls_are_refused(client, factory, strict, url):
    admin = await factory.make_user(Role.admin)
    r = await client.post(
        f"{API}/webhooks",
        headers=factory.headers(admin),
        json={"url": url, "events": ["case.submitted"]},
    )
    assert r.status_code == 422, (url, r.text)
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("unsafe-webhook-url")
    assert problem["errors"][0]["pointer"] == "/url"


async def test_public_https_url_is_accepted_when_strict(client, factory, strict):
    admin = await factory.make_user(Role.admin)
    # A literal public address needs no DNS, so the test does not depend on the network.
    r = await client.post(
        f"{API}/webhooks",
        headers=factory.headers(admin),
        json={"url": "https://93.184.215.14/hook", "events": ["case.closed"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["owner_kind"] == "user" and r.json()["organization_id"] is None


async def test_who_may_manage(client, factory):
    org = await factory.make_org()
    body = {"url": "https://93.184.215.14/h", "events": ["case.closed"]}
    for role in (Role.coordinator, Role.clinician, Role.specialist, Role.interpreter):
        u = await factory.make_user(
            role, organization_id=org.id if role == Role.clinician else None
        )
        r = await client.post(f"{API}/webhooks", headers=factory.headers(u), json=body)
        assert r.status_code == 403, role
        assert r.json()["type"].endswith("/forbidden"), role
    no_scope = await factory.make_client(org.id, scopes=["cases:read"])
    r = await client.post(f"{API}/webhooks", headers=factory.headers(no_scope), json=body)
    assert r.status_code == 403
    assert r.json()["type"].endswith("/insufficient-scope")  # one code for a missing scope
    assert (await client.post(f"{API}/webhooks", json=body)).status_code == 401


async def test_clients_see_only_their_own_and_admin_sees_all(client, factory):
    org_a, org_b = await factory.make_org(), await factory.make_org()
    a, b = await factory.make_client(org_a.id), await factory.make_client(org_b.id)
    admin = await factory.make_user(Role.admin)
    body = {"url": "https://93.184.215.14/h", "events": ["case.closed"]}
    wa = (await client.post(f"{API}/webhooks", headers=factory.headers(a), json=body)).json()
    wb = (await client.post(f"{API}/webhooks", headers=factory.headers(b), json=body)).json()
    mine = await client.get(f"{API}/webhooks", headers=factory.headers(a))
    assert [w["id"] for w in mine.json()["items"]] == [wa["id"]]
    assert (
        await client.get(f"{API}/webhooks/{wb['id']}", headers=factory.headers(a))
    ).status_code == 404
    everything = await client.get(f"{API}/webhooks", headers=factory.headers(admin))
    assert {w["id"] for w in everything.json()["items"]} == {wa["id"], wb["id"]}
    assert (
        await client.delete(f"{API}/webhooks/{wb['id']}", headers=factory.headers(a))
    ).status_code == 404
    assert (
        await client.delete(f"{API}/webhooks/{wb['id']}", headers=factory.headers(b))
    ).status_code == 204
    assert (
        await client.get(f"{API}/webhooks/{wb['id']}", headers=factory.headers(admin))
    ).status_code == 404


async def test_rotation_returns_a_new_secret_and_keeps_the_old_one_for_a_while(client, factory):
    org = await factory.make_org()
    cl = await factory.make_client(org.id)
    h = factory.headers(cl)
    w = (
        await client.post(
            f"{API}/webhooks",
            headers=h,
            json={"url": "https://93.184.215.14/h", "events": ["case.closed"]},
        )
    ).json()
    r = await client.post(f"{API}/webhooks/{w['id']}/rotate-secret", headers=h)
    assert r.status_code == 200
    assert r.json()["secret"].startswith("whsec_") and r.json()["secret"] != w["secret"]
    assert r.json()["previous_secret_expires_at"] is not None
