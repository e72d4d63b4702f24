"""The languages a person speaks (`languages` on a user, BCP 47 tags): who interprets what.
A coordinator or an admin sets them when she creates the account or later; the person sets
her own; nobody else does. A tag that is not one is a 422 problem+json naming the item,
and each change is on the audit log like the other changes of a user."""

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.principal import Role
from tests.core.helpers import API, assert_problem


async def _audited(db, user_id: str) -> list[tuple[str, str | None, str | None]]:
    rows = (
        await db.execute(
            select(AuditEntry)
            .where(
                AuditEntry.resource_id == user_id,
                AuditEntry.action == "user.update",
                AuditEntry.outcome == "allowed",
            )
            .order_by(AuditEntry.id)
        )
    ).scalars()
    said = [(e.action, e.actor_id, e.detail) for e in rows]
    await db.commit()  # end the read: on SQLite it holds the database the app needs next
    return said


async def test_languages_are_set_read_and_changed(client, factory, db):
    coordinator = await factory.make_user(Role.coordinator)
    admin = await factory.make_user(Role.admin)
    r = await client.post(
        f"{API}/users",
        headers=factory.headers(admin),
        json={
            "email": "rosa.quispe@interpreters.example.org",
            "name": "Rosa Quispe",
            "role": "interpreter",
            "password": "a-long-passphrase-9",
            # Written as people write them: the language part lowercased, repeats dropped.
            "languages": ["QU", "es-419", "qu"],
        },
    )
    assert r.status_code == 201, r.text
    rosa = r.json()
    assert rosa["languages"] == ["qu", "es-419"]

    r = await client.get(f"{API}/users/{rosa['id']}", headers=factory.headers(coordinator))
    assert r.status_code == 200 and r.json()["languages"] == ["qu", "es-419"], r.text
    r = await client.get(
        f"{API}/users", params={"role": "interpreter"}, headers=factory.headers(coordinator)
    )
    assert [u["languages"] for u in r.json()["items"]] == [["qu", "es-419"]]

    # A coordinator changes them; the audit log says what changed, not to what.
    r = await client.patch(
        f"{API}/users/{rosa['id']}",
        headers=factory.headers(coordinator),
        json={"languages": ["qu", "ay", "es"]},
    )
    assert r.status_code == 200 and r.json()["languages"] == ["qu", "ay", "es"], r.text
    assert await _audited(db, rosa["id"]) == [("user.update", coordinator.id, "languages")]

    # Someone made without them speaks none on file.
    other = await factory.make_user(Role.interpreter)
    r = await client.get(f"{API}/users/{other.id}", headers=factory.headers(coordinator))
    assert r.json()["languages"] == []


async def test_she_sets_her_own_and_reads_them_in_me(client, factory, db):
    interpreter = await factory.make_user(Role.interpreter, name="Amadou Diallo")
    r = await client.get(f"{API}/me", headers=factory.headers(interpreter))
    assert r.status_code == 200 and r.json()["languages"] == [], r.text

    r = await client.patch(
        f"{API}/users/{interpreter.id}",
        headers=factory.headers(interpreter),
        json={"languages": ["fr", "wo", "ff"]},
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"{API}/me", headers=factory.headers(interpreter))
    assert r.json()["languages"] == ["fr", "wo", "ff"]
    assert await _audited(db, interpreter.id) == [("user.update", interpreter.id, "languages")]

    # Her own languages, not her role nor whether she is active.
    r = await client.patch(
        f"{API}/users/{interpreter.id}",
        headers=factory.headers(interpreter),
        json={"languages": ["fr"], "active": False},
    )
    assert_problem(r, 403, "forbidden")


async def test_a_tag_that_is_not_one_is_refused_naming_it(client, factory):
    coordinator = await factory.make_user(Role.coordinator)
    interpreter = await factory.make_user(Role.interpreter)
    r = await client.patch(
        f"{API}/users/{interpreter.id}",
        headers=factory.headers(coordinator),
        json={"languages": ["es", "quechua!"]},
    )
    body = assert_problem(r, 422)
    assert [(e["pointer"], e.get("code")) for e in body["errors"]] == [
        ("/languages/1", "language_tag")
    ]
    admin = await factory.make_user(Role.admin)
    r = await client.post(
        f"{API}/users",
        headers=factory.headers(admin),
        json={
            "email": "new.interpreter@interpreters.example.org",
            "name": "New interpreter",
            "role": "interpreter",
            "password": "a-long-passphrase-9",
            "languages": ["e"],
        },
    )
    body = assert_problem(r, 422)
    assert [(e["pointer"], e.get("code")) for e in body["errors"]] == [
        ("/languages/0", "language_tag")
    ]
    r = await client.get(f"{API}/users/{interpreter.id}", headers=factory.headers(coordinator))
    assert r.json()["languages"] == []


async def test_nobody_else_sets_another_persons_languages(client, factory, db):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    interpreter = await factory.make_user(Role.interpreter)
    other_interpreter = await factory.make_user(Role.interpreter)
    app_client = await factory.make_client(org.id)
    body = {"languages": ["de"]}
    # They see her (they may add her to a case) but may not change her.
    for who in (clinician, specialist):
        r = await client.patch(
            f"{API}/users/{interpreter.id}", headers=factory.headers(who), json=body
        )
        assert_problem(r, 403, "forbidden")
    # Another interpreter does not even find her; an app changes nobody.
    r = await client.patch(
        f"{API}/users/{interpreter.id}", headers=factory.headers(other_interpreter), json=body
    )
    assert_problem(r, 404)
    r = await client.patch(
        f"{API}/users/{clinician.id}", headers=factory.headers(app_client), json=body
    )
    assert_problem(r, 403)
    # A clinician creates nobody, languages or not.
    r = await client.post(
        f"{API}/users",
        headers=factory.headers(clinician),
        json={
            "email": "someone@interpreters.example.org",
            "name": "Someone",
            "role": "interpreter",
            "password": "a-long-passphrase-9",
            "languages": ["de"],
        },
    )
    assert_problem(r, 403, "forbidden")
    r = await client.get(f"{API}/users/{interpreter.id}", headers=factory.headers(clinician))
    assert r.json()["languages"] == []
    assert await _audited(db, interpreter.id) == []
