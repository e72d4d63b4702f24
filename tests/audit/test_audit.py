"""The audit log: one row per read or change of patient data and per denied attempt, the
admin's filters, and a hash chain whose verification points at the first broken link."""

from sqlalchemy import delete, select, text, update

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.core.principal import Principal, PrincipalKind, Role
from tests.core.helpers import API, assert_problem


async def _entries(db, **where) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for k, v in where.items():
        stmt = stmt.where(getattr(AuditEntry, k) == v)
    rows = list((await db.execute(stmt)).scalars())
    # End the read transaction: on SQLite it holds the database the app needs next.
    await db.commit()
    return rows


async def test_reading_a_case_writes_one_row_and_a_refused_read_a_denied_row(client, factory, db):
    org_a, org_b = await factory.make_org(), await factory.make_org()
    mine = await factory.make_user(Role.clinician, organization_id=org_a.id)
    other = await factory.make_user(Role.clinician, organization_id=org_b.id)
    case = await factory.make_case(org_a.id)

    r = await client.get(f"{API}/cases/{case.id}", headers=factory.headers(mine))
    assert r.status_code == 200, r.text
    rows = await _entries(db, resource_id=case.id)
    assert [(e.action, e.outcome, e.actor_id) for e in rows] == [("case.read", "allowed", mine.id)]
    assert rows[0].actor_kind == "user" and rows[0].ip == "127.0.0.1"

    # Another facility's clinician: 404 (no existence leak), but the attempt is on record.
    r = await client.get(f"{API}/cases/{case.id}", headers=factory.headers(other))
    assert_problem(r, 404)
    await audit.drain_denied()
    rows = await _entries(db, resource_id=case.id, outcome="denied")
    assert [(e.action, e.actor_id) for e in rows] == [("case.read", other.id)]
    assert (await audit.verify(db))["valid"] is True
    await db.commit()


async def test_changes_are_recorded_without_secrets(client, factory, db):
    admin = await factory.make_user(Role.admin)
    u = await factory.make_user(Role.specialist, password="the-old-password-1")
    r = await client.patch(
        f"{API}/users/{u.id}", headers=factory.headers(admin), json={"name": "Dr Ana Ruiz"}
    )
    assert r.status_code == 200
    r = await client.post(
        f"{API}/me/password",
        headers=factory.headers(u),
        json={"current_password": "the-old-password-1", "new_password": "a-new-password-1"},
    )
    assert r.status_code == 204, r.text
    rows = await _entries(db, resource_id=u.id)
    assert [(e.action, e.actor_id, e.detail) for e in rows] == [
        ("user.update", admin.id, "name"),
        ("user.password", u.id, None),
    ]
    assert not any("password-1" in (e.detail or "") for e in rows)


async def test_audit_api_filters_and_is_admin_only(client, factory, db):
    admin = await factory.make_user(Role.admin)
    p1 = Principal(id="usr_a", kind=PrincipalKind.user, role=Role.clinician, organization_id=None)
    p2 = Principal(id="cli_b", kind=PrincipalKind.client, role=Role.clinician, organization_id=None)
    await audit.append(db, p1, "case.read", "case", "case_1")
    await audit.append(db, p2, "case.read", "case", "case_2")
    await audit.append(db, p1, "note.read", "note", "note_1")
    await audit.append(db, None, "case.read", "case", "case_1", outcome="denied")
    await db.commit()
    h = factory.headers(admin)

    async def ids(**params) -> list[str | None]:
        r = await client.get("/audit", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [e["resource_id"] for e in r.json()["items"]]

    assert await ids() == ["case_1", "note_1", "case_2", "case_1"]  # newest first
    assert await ids(resource_type="case") == ["case_1", "case_2", "case_1"]
    assert await ids(resource_id="case_1") == ["case_1", "case_1"]
    assert await ids(actor_id="usr_a") == ["note_1", "case_1"]
    assert await ids(actor_id="usr_a", resource_type="case") == ["case_1"]
    page = (await client.get("/audit", params={"limit": 3}, headers=h)).json()
    rest = (
        await client.get("/audit", params={"limit": 3, "cursor": page["next_cursor"]}, headers=h)
    ).json()
    assert len(page["items"]) == 3 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    item = page["items"][0]
    assert {"at", "actor_id", "actor_kind", "action", "outcome", "ip", "hash", "prev_hash"} <= set(
        item
    )

    for who in (Role.coordinator, Role.clinician, Role.specialist):
        org = await factory.make_org()
        u = await factory.make_user(who, organization_id=org.id)
        assert_problem(await client.get("/audit", headers=factory.headers(u)), 403)
        assert_problem(await client.get("/audit/verify", headers=factory.headers(u)), 403)
    org = await factory.make_org()
    assert_problem(
        await client.get("/audit", headers=factory.headers(await factory.make_client(org.id))), 403
    )
    assert_problem(await client.get("/audit"), 401)


async def _chain(db, n: int) -> list[int]:
    p = Principal(id="usr_x", kind=PrincipalKind.user, role=Role.coordinator, organization_id=None)
    for i in range(n):
        await audit.append(db, p, "case.read", "case", f"case_{i}", detail=f"#{i}")
    await db.commit()
    await audit.seal()  # what the worker does after commits; tampering comes after
    return [e.id for e in await _entries(db)]


async def test_verify_reports_an_intact_chain(client, factory, db):
    ids = await _chain(db, 5)
    r = await client.get(
        "/audit/verify", headers=factory.headers(await factory.make_user(Role.admin))
    )
    assert r.status_code == 200
    assert r.json() == {"valid": True, "checked": 5, "first_broken_id": None, "reason": None}
    assert len(ids) == 5


async def test_verify_points_at_an_edited_row(client, factory, db):
    ids = await _chain(db, 6)
    await db.execute(
        update(AuditEntry).where(AuditEntry.id == ids[3]).values(actor_id="usr_someone_else")
    )
    await db.commit()
    h = factory.headers(await factory.make_user(Role.admin))
    assert (await client.get("/audit/verify", headers=h)).json() == {
        "valid": False,
        "checked": 3,
        "first_broken_id": ids[3],
        "reason": "altered",
    }


async def test_verify_points_at_the_row_after_a_deleted_one(client, factory, db):
    ids = await _chain(db, 6)
    await db.execute(delete(AuditEntry).where(AuditEntry.id == ids[2]))
    await db.commit()
    h = factory.headers(await factory.make_user(Role.admin))
    body = (await client.get("/audit/verify", headers=h)).json()
    assert body == {"valid": False, "checked": 2, "first_broken_id": ids[3], "reason": "altered"}


async def test_verify_catches_a_recomputed_hash_whose_successor_no_longer_links(
    client, factory, db
):
    """An editor who also recomputes the edited row's hash still breaks the next link."""
    ids = await _chain(db, 4)
    row = await db.get(AuditEntry, ids[1])
    row.detail = "nothing to see"
    row.hash = audit._digest(row.prev_hash, row)
    await db.commit()
    h = factory.headers(await factory.make_user(Role.admin))
    assert (await client.get("/audit/verify", headers=h)).json()["first_broken_id"] == ids[2]


async def test_appends_are_serialised_into_one_chain(db):
    """Concurrent writers never fork the chain (PostgreSQL: advisory lock; SQLite: one writer)."""
    import asyncio

    from app.core.db import sessionmaker

    p = Principal(id="usr_y", kind=PrincipalKind.user, role=Role.admin, organization_id=None)

    async def writer(i: int) -> None:
        async with sessionmaker()() as s:
            await audit.append(s, p, "case.read", "case", f"c{i}")
            await s.commit()

    await asyncio.gather(*(writer(i) for i in range(8)))
    result = await audit.verify(db)
    await db.commit()
    assert result == {"valid": True, "checked": 8, "first_broken_id": None, "reason": None}
    hashes = (await db.execute(text("SELECT prev_hash FROM audit_entry"))).scalars().all()
    assert len(set(hashes)) == 8  # no two entries share a predecessor
