"""An admin gives a partner app a new secret (`POST /api-clients/{id}/rotate-secret`) when
the old one has leaked: the same client (its webhooks, feed cursor and audit identity kept)
with a secret shown once. The old secret is refused at once, and so is every access token
the client holds. Before, a leaked secret could only be switched off with the client, and
switching it on again within a token's lifetime let the leaked tokens back in: client tokens
carried no version."""

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.principal import Role
from app.core.security import create_token
from tests.core.helpers import API, assert_problem


async def _register(client, factory, admin, **more):
    org = await factory.make_org()
    r = await client.post(
        f"{API}/api-clients",
        json={"name": "Karnali EMR", "organization_id": org.id, "scopes": ["cases:read"], **more},
        headers=factory.headers(admin),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _token(client, client_id: str, secret: str):
    return await client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def _bearer(client, client_id: str, secret: str) -> dict[str, str]:
    r = await _token(client, client_id, secret)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _rotate(client, factory, admin, cid: str, **kw):
    return await client.post(
        f"{API}/api-clients/{cid}/rotate-secret", headers={**factory.headers(admin), **kw}
    )


async def _audited(db, cid: str) -> list[tuple[str, str | None, str | None]]:
    rows = (
        await db.execute(
            select(AuditEntry)
            .where(AuditEntry.resource_id == cid, AuditEntry.action.like("api_client.%"))
            .order_by(AuditEntry.id)
        )
    ).scalars()
    said = [(e.action, e.actor_id, e.detail) for e in rows]
    await db.commit()  # end the read: on SQLite it holds the database the app needs next
    return said


def _refused(r) -> None:
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"


async def test_a_new_secret_works_and_the_old_secret_and_tokens_are_refused_at_once(
    client, factory, db
):
    admin = await factory.make_user(Role.admin)
    created = await _register(client, factory, admin)
    old = await _bearer(client, created["client_id"], created["client_secret"])
    assert (await client.get(f"{API}/me", headers=old)).status_code == 200

    r = await _rotate(client, factory, admin, created["id"])
    assert r.status_code == 200, r.text
    body = r.json()
    # The same client, as creation answers it, with a new secret.
    assert {k: v for k, v in body.items() if k not in ("client_secret", "updated_at")} == {
        k: v for k, v in created.items() if k not in ("client_secret", "updated_at")
    }
    assert body["client_secret"].startswith("cs_")
    assert body["client_secret"] != created["client_secret"]

    _refused(await _token(client, created["client_id"], created["client_secret"]))
    r = await client.get(f"{API}/me", headers=old)  # a token minted before: refused at once
    assert_problem(r, 401)
    new = await _bearer(client, created["client_id"], body["client_secret"])
    r = await client.get(f"{API}/me", headers=new)
    assert r.status_code == 200 and r.json()["id"] == created["id"]

    assert await _audited(db, created["id"]) == [
        ("api_client.create", admin.id, None),
        ("api_client.update", admin.id, "secret=rotated"),
    ]
    # Not a secret's to tell: the list never shows one.
    r = await client.get(f"{API}/api-clients", headers=factory.headers(admin))
    assert "client_secret" not in r.text and body["client_secret"] not in r.text


async def test_switching_a_client_off_and_on_does_not_revive_its_old_tokens(client, factory):
    admin = await factory.make_user(Role.admin)
    created = await _register(client, factory, admin)
    old = await _bearer(client, created["client_id"], created["client_secret"])
    url = f"{API}/api-clients/{created['id']}"
    for active in (False, True):
        r = await client.patch(url, json={"active": active}, headers=factory.headers(admin))
        assert r.status_code == 200, r.text
    assert_problem(await client.get(f"{API}/me", headers=old), 401)
    # The secret itself was not changed: a new token works.
    new = await _bearer(client, created["client_id"], created["client_secret"])
    assert (await client.get(f"{API}/me", headers=new)).status_code == 200


async def test_a_token_minted_before_versions_works_until_the_first_bump(client, factory):
    """The deploy cuts no running partner off: a token without `tv` is version 0."""
    org = await factory.make_org()
    c = await factory.make_client(org.id, scopes=["cases:read"])
    tok, _ = create_token(
        c.id, "access", timedelta(minutes=15), kind="client", scope="cases:read"
    )  # as client_credentials_grant minted them before
    bearer = {"Authorization": f"Bearer {tok}"}
    assert (await client.get(f"{API}/me", headers=bearer)).status_code == 200
    r = await client.get(f"{API}/cases", headers=bearer)
    assert r.status_code == 200, r.text

    admin = await factory.make_user(Role.admin)
    assert (await _rotate(client, factory, admin, c.id)).status_code == 200
    assert_problem(await client.get(f"{API}/me", headers=bearer), 401)


async def test_introspection_says_a_token_of_an_old_version_is_not_active(client, factory):
    admin = await factory.make_user(Role.admin)
    created = await _register(client, factory, admin)
    r = await _token(client, created["client_id"], created["client_secret"])
    token = r.json()["access_token"]
    ask = {"Authorization": f"Bearer {factory.token(admin)}"}
    r = await client.post(f"{API}/auth/introspect", data={"token": token}, headers=ask)
    assert r.status_code == 200 and r.json()["active"] is True, r.text

    secret = (await _rotate(client, factory, admin, created["id"])).json()["client_secret"]
    r = await client.post(f"{API}/auth/introspect", data={"token": token}, headers=ask)
    assert r.status_code == 200 and r.json() == {"active": False}
    # Asked by the client itself, with its new secret: the same answer.
    r = await client.post(
        f"{API}/auth/introspect", data={"token": token}, auth=(created["client_id"], secret)
    )
    assert r.status_code == 200 and r.json() == {"active": False}


async def test_a_switched_off_client_gets_a_new_secret_and_stays_off(client, factory):
    admin = await factory.make_user(Role.admin)
    created = await _register(client, factory, admin)
    url = f"{API}/api-clients/{created['id']}"
    await client.patch(url, json={"active": False}, headers=factory.headers(admin))
    r = await _rotate(client, factory, admin, created["id"])
    assert r.status_code == 200 and r.json()["active"] is False
    secret = r.json()["client_secret"]
    _refused(await _token(client, created["client_id"], secret))  # off: no token yet
    await client.patch(url, json={"active": True}, headers=factory.headers(admin))
    await _bearer(client, created["client_id"], secret)
    _refused(await _token(client, created["client_id"], created["client_secret"]))


async def test_an_unknown_client_is_404_and_only_an_admin_rotates(client, factory, db):
    admin = await factory.make_user(Role.admin)
    coordinator = await factory.make_user(Role.coordinator)
    created = await _register(client, factory, admin)
    r = await _rotate(client, factory, admin, "cli_nobody")
    assert_problem(r, 404)

    url = f"{API}/api-clients/{created['id']}/rotate-secret"
    assert_problem(await client.post(url), 401)
    assert_problem(await client.post(url, headers=factory.headers(coordinator)), 403)
    itself = await _bearer(client, created["client_id"], created["client_secret"])
    assert_problem(await client.post(url, headers=itself), 403)
    # Nothing changed: the first secret still works, and nothing was audited.
    await _bearer(client, created["client_id"], created["client_secret"])
    assert [a for a, *_ in await _audited(db, created["id"])] == ["api_client.create"]


async def test_an_idempotent_replay_mints_no_second_secret(client, factory, db):
    """A secret is never stored, so a replay cannot answer it again: it says the work was
    done (409 idempotent-secret-withheld, naming the client) and rotates nothing more."""
    admin = await factory.make_user(Role.admin)
    created = await _register(client, factory, admin)
    key = {"Idempotency-Key": "rotate-karnali-1"}
    first = await _rotate(client, factory, admin, created["id"], **key)
    assert first.status_code == 200, first.text
    secret = first.json()["client_secret"]
    again = await _rotate(client, factory, admin, created["id"], **key)
    body = assert_problem(again, 409, "idempotent-secret-withheld")
    assert body["id"] == created["id"] and secret not in again.text
    assert again.headers.get("idempotent-replayed") == "true"
    # Like every problem body: where it was asked, and the retry's own request id.
    assert body["instance"] == f"/api/v1/api-clients/{created['id']}/rotate-secret"
    assert body["request_id"] == again.headers["x-request-id"]
    # The first answer's secret is the one that works: no second was minted.
    await _bearer(client, created["client_id"], secret)
    assert [d for *_, d in await _audited(db, created["id"])] == [None, "secret=rotated"]
