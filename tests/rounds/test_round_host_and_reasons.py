"""A round names its host facility to everyone who sees it (GET /organizations/{id} shows a
clinician or an API client only their own facility), in the list in one query with the
series; and a cancelled or moved occurrence says why, when someone said."""

from datetime import timedelta

import pytest
from sqlalchemy import event

from app.core.clock import utcnow
from app.core.principal import Principal, PrincipalKind, Role
from app.rounds import service
from tests.rounds.support import API, make_round

HOST = "Lake Mission Hospital"


@pytest.fixture
async def room(factory):
    org = await factory.make_org(name=HOST, timezone="Africa/Nairobi")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist)
    interp = await factory.make_user(Role.interpreter)
    first = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT09:00")
    rnd = await make_round(
        org.id,
        timezone="Africa/Nairobi",
        starts_at_local=first,
        participants=[(spec.id, "specialist"), (interp.id, "interpreter")],
    )
    return org, rnd, clin, spec, interp


async def test_everyone_who_sees_the_round_sees_its_host_by_name(client, factory, room):
    org, rnd, clin, spec, interp = room
    app_client = await factory.make_client(org.id, scopes=["rounds:read"])
    for who in (clin, spec, interp, app_client, await factory.make_user(Role.coordinator)):
        h = factory.headers(who)
        r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["host_organization_name"] == HOST
        assert r.json()["host_organization_id"] == org.id
        r = await client.get(f"{API}/rounds", headers=h)
        assert [x["host_organization_name"] for x in r.json()["items"]] == [HOST]
    # The series just written says it too.
    h = factory.headers(clin)
    r = await client.patch(f"{API}/rounds/{rnd.id}", headers=h, json={"title": "Skin rounds"})
    assert r.status_code == 200 and r.json()["host_organization_name"] == HOST
    r = await client.post(
        f"{API}/rounds",
        headers=h,
        json={
            "title": "Wound care",
            "host_organization_id": org.id,
            "starts_at_local": rnd.starts_at_local,
            "rrule": "FREQ=WEEKLY",
            "specialty": "dermatology",
        },
    )
    assert r.status_code == 201 and r.json()["host_organization_name"] == HOST
    # Someone who cannot see the round learns nothing of it.
    other = await factory.make_user(Role.specialist)
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=factory.headers(other))
    assert r.status_code == 404


async def test_the_list_names_the_hosts_in_the_same_query(db, factory, room):
    org, *_ = room
    for n in range(3):
        await make_round(org.id, title=f"Round {n}", timezone="Africa/Nairobi")
    coord = Principal(
        id="usr_coordinator", kind=PrincipalKind.user, role=Role.coordinator, organization_id=None
    )
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    # This session's connection only: the engine's would also hear the background passes
    # (the outbox's reads name organization_id too).
    conn = (await db.connection()).sync_connection
    event.listen(conn, "before_cursor_execute", seen)
    try:
        items, _ = await service.list_series(db, coord, 50, None)
    finally:
        event.remove(conn, "before_cursor_execute", seen)
    assert [i["host_organization_name"] for i in items] == [HOST] * 4
    assert len([s for s in statements if "organization" in s.lower()]) == 1, statements


async def test_a_cancelled_or_moved_occurrence_says_why(client, factory, room):
    _org, rnd, clin, spec, _ = room
    h = factory.headers(clin)
    r = await client.get(f"{API}/rounds/{rnd.id}/occurrences", headers=h, params={"limit": 3})
    first, second, third = r.json()["items"]
    assert first["reason"] is None
    base = f"{API}/rounds/{rnd.id}/occurrences"
    r = await client.post(
        f"{base}/{first['start']}/cancel", headers=h, json={"reason": "Public holiday"}
    )
    assert r.status_code == 200 and r.json()["reason"] == "Public holiday"
    r = await client.patch(
        f"{base}/{second['start']}",
        headers=h,
        json={"starts_at_local": second["start_local"][:11] + "11:00", "reason": "Ward round"},
    )
    assert r.status_code == 200 and r.json()["reason"] == "Ward round"
    await client.post(f"{base}/{third['start']}/cancel", headers=h)
    # Whoever sees the round reads it, beside the cancelled flag.
    r = await client.get(
        base,
        headers=factory.headers(spec),
        params={"limit": 4, "include_cancelled": "true"},
    )
    items = r.json()["items"]
    assert [(o["cancelled"], o["moved"], o["reason"]) for o in items[:3]] == [
        (True, False, "Public holiday"),
        (False, True, "Ward round"),
        (True, False, None),
    ]
