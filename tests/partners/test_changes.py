"""GET /changes: what the caller may see, in commit order, resumable, tamper-proof."""

import asyncio

import pytest

from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.service import emit
from tests.conftest import IS_PG
from tests.partners.helpers import caught_up, commit_event
from tests.partners.support import API


async def read_all(client, headers, since=None, limit=50):
    """Page through the feed like an app catching up; returns (ids, last cursor, pages)."""
    seen, pages = [], 0
    while True:
        params = {"limit": limit, **({"since": since} if since else {})}
        r = await client.get(f"{API}/changes", headers=headers, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        pages += 1
        seen += [i["resource_id"] for i in page["items"]]
        since = page["next_cursor"]
        assert since
        if not page["has_more"]:
            return seen, since, pages


async def test_an_app_offline_for_a_week_catches_up_and_misses_nothing(client, factory):
    org_a, org_b = await factory.make_org(), await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org_a.id)
    expected = []
    for i in range(120):
        org = org_a if i % 3 else org_b
        await commit_event("case.submitted", org.id, f"case_{i}")
        if org is org_a:
            expected.append(f"case_{i}")
    await caught_up()
    h = factory.headers(clin)
    seen, cursor, pages = await read_all(client, h, limit=25)
    assert seen == expected and pages >= 4
    # Nothing new: the stored cursor gives an empty page; later changes come after it.
    r = await client.get(f"{API}/changes", headers=h, params={"since": cursor})
    assert r.json()["items"] == [] and r.json()["has_more"] is False
    await commit_event("case.closed", org_a.id, "case_new")
    await commit_event("case.closed", org_b.id, "case_not_mine")
    await caught_up()
    more, _, _ = await read_all(client, h, since=cursor)
    assert more == ["case_new"]


async def test_each_caller_sees_only_its_changes(client, factory):
    org_a, org_b = await factory.make_org(), await factory.make_org()
    spec = await factory.make_user(Role.specialist)
    admin = await factory.make_user(Role.admin)
    client_a = await factory.make_client(org_a.id)
    rounds_only = await factory.make_client(org_a.id, scopes=["rounds:read"])
    await commit_event("case.submitted", org_a.id, "case_a")
    await commit_event("case.assigned", org_b.id, "case_b", audience=[spec.id])
    await commit_event("round.updated", org_a.id, "rnd_a", resource_type="round")
    await caught_up()
    assert (await read_all(client, factory.headers(spec)))[0] == ["case_b"]
    assert (await read_all(client, factory.headers(admin)))[0] == ["case_a", "case_b", "rnd_a"]
    assert (await read_all(client, factory.headers(client_a)))[0] == ["case_a", "rnd_a"]
    assert (await read_all(client, factory.headers(rounds_only)))[0] == ["rnd_a"]
    r = await client.get(f"{API}/changes", headers=factory.headers(admin))
    item = r.json()["items"][0]
    assert set(item) == {"id", "type", "resource_type", "resource_id", "occurred_at", "data"}
    assert item["id"].startswith("evt_")
    assert (await client.get(f"{API}/changes")).status_code == 401


async def test_a_tampered_cursor_is_400(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    other = await factory.make_user(Role.clinician, organization_id=org.id)
    await commit_event("case.submitted", org.id, "case_1")
    cursor = (await client.get(f"{API}/changes", headers=factory.headers(clin))).json()[
        "next_cursor"
    ]
    data, sig = cursor.rsplit(".", 1)
    for bad in (data[:-2] + "AA." + sig, data + "." + sig[::-1], "garbage", "x.y"):
        r = await client.get(f"{API}/changes", headers=factory.headers(clin), params={"since": bad})
        assert r.status_code == 400, bad
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("invalid-cursor")
    # A cursor is the caller's own: another user cannot replay it.
    r = await client.get(f"{API}/changes", headers=factory.headers(other), params={"since": cursor})
    assert r.status_code == 400


@pytest.mark.skipif(not IS_PG, reason="SQLite serialises writers: ids are commit order")
async def test_a_lower_id_committing_later_is_not_skipped(client, factory):
    """T1 takes id 1 and stays open; T2 takes id 2 and commits. The feed must not move its
    cursor past 1 while T1 may still commit."""
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clin)
    slow = sessionmaker()()
    await emit(slow, "case.submitted", "case", "case_slow", organization_id=org.id)
    await slow.flush()  # id drawn, transaction open
    await commit_event("case.submitted", org.id, "case_fast")
    first = (await client.get(f"{API}/changes", headers=h)).json()
    assert first["items"] == []  # case_fast waits behind the open transaction
    await slow.commit()
    await slow.close()
    await caught_up()
    rest, _, _ = await read_all(client, h, since=first["next_cursor"])
    assert rest == ["case_slow", "case_fast"]


@pytest.mark.skipif(not IS_PG, reason="concurrent writers need PostgreSQL")
async def test_concurrent_writers_readers_never_lose_a_change(client, factory):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clin)

    async def writer(n: int) -> None:
        for i in range(25):
            async with sessionmaker()() as s:
                await emit(s, "case.submitted", "case", f"case_{n}_{i}", organization_id=org.id)
                await s.flush()
                await asyncio.sleep(0.001 * ((i * 7 + n) % 5))  # commits interleave
                await s.commit()

    seen: list[str] = []
    cursor = None
    writers = asyncio.gather(*(writer(n) for n in range(4)))
    while not writers.done():
        got, cursor, _ = await read_all(client, h, since=cursor)
        seen += got
        await asyncio.sleep(0.01)
    await writers
    await caught_up()
    got, _, _ = await read_all(client, h, since=cursor)
    seen += got
    assert len(seen) == 100 and len(set(seen)) == 100


async def test_a_cursor_passed_as_every_other_list_takes_it_is_refused(client, factory):
    """Every other list pages on `?cursor=`; the feed on `?since=`. Read silently, a
    `cursor` gave the first page again and again: an app would loop on it forever."""
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    await commit_event("case.submitted", org.id, "case_1")
    await caught_up()
    h = factory.headers(clin)
    first = (await client.get(f"{API}/changes", headers=h)).json()
    r = await client.get(f"{API}/changes", headers=h, params={"cursor": first["next_cursor"]})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/use-since") and "since" in problem["detail"]
    fine = await client.get(f"{API}/changes", headers=h, params={"since": first["next_cursor"]})
    assert fine.status_code == 200 and fine.json()["items"] == []


def _with_scope(api_client, scope: str) -> dict[str, str]:
    """A token of this API client asking for `scope` only (client_credentials' `scope`)."""
    from datetime import timedelta

    from app.core.security import create_token

    tok, _ = create_token(
        api_client.id, "access", timedelta(minutes=15), kind="client", scope=scope
    )
    return {"Authorization": f"Bearer {tok}"}


async def test_a_cursor_read_with_fewer_scopes_is_not_resumed_by_a_wider_token(client, factory):
    """A token that sees nothing of the feed is refused rather than given a cursor at its
    head; a cursor read under fewer read scopes would skip, for a token with more, the
    changes of the kind it never served: refused, and the feed read from the start has them."""
    org = await factory.make_org()
    app_ = await factory.make_client(org.id)
    await commit_event("case.submitted", org.id, "case_a")
    await commit_event("round.updated", org.id, "rnd_a", resource_type="round")
    await caught_up()

    r = await client.get(f"{API}/changes", headers=_with_scope(app_, "webhooks:manage"))
    assert r.status_code == 403, r.text
    assert r.json()["type"].endswith("insufficient-scope")

    seen, rounds_cursor, _ = await read_all(client, _with_scope(app_, "rounds:read"))
    assert seen == ["rnd_a"]
    wide = _with_scope(app_, "cases:read rounds:read")
    r = await client.get(f"{API}/changes", headers=wide, params={"since": rounds_cursor})
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("cursor-scope-widened")
    assert "cases:read" in r.json()["detail"]
    seen, wide_cursor, _ = await read_all(client, wide)
    assert seen == ["case_a", "rnd_a"]
    # Fewer scopes than the cursor was read with lose nothing: it goes on from there.
    await commit_event("round.updated", org.id, "rnd_b", resource_type="round")
    await caught_up()
    seen, _, _ = await read_all(client, _with_scope(app_, "rounds:read"), since=wide_cursor)
    assert seen == ["rnd_b"]


async def test_a_persons_cursor_is_not_resumed_once_her_facility_changed(client, factory):
    """A clinician moved to another facility (or made coordinator) sees other changes: her
    old cursor has passed the new facility's earlier ones, so it is refused, and the feed
    read from the start has them."""
    org_a, org_b = await factory.make_org(), await factory.make_org()
    admin = await factory.make_user(Role.admin)
    clin = await factory.make_user(Role.clinician, organization_id=org_a.id)
    await commit_event("case.submitted", org_a.id, "case_a")
    await commit_event("case.submitted", org_b.id, "case_b")
    await caught_up()
    seen, cursor, _ = await read_all(client, factory.headers(clin))
    assert seen == ["case_a"]
    r = await client.patch(
        f"{API}/users/{clin.id}",
        headers=factory.headers(admin),
        json={"organization_id": org_b.id},
    )
    assert r.status_code == 200, r.text
    from app.auth.models import User

    async with sessionmaker()() as s:  # her token as it is now (its version may have moved)
        moved = factory.headers(await s.get(User, clin.id))
    r = await client.get(f"{API}/changes", headers=moved, params={"since": cursor})
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("cursor-reach-changed")
    assert (await read_all(client, moved))[0] == ["case_b"]


async def test_a_page_is_fifty_changes_unless_asked_as_every_list_in_api_md(client, factory):
    """API.md: lists take `?limit=` with a default of 50 (max 200). The feed gave 100, so an
    app that stored where it got to after 50 read twice the changes it meant to hold."""
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    for i in range(60):
        await commit_event("case.submitted", org.id, f"case_{i}")
    await caught_up()
    r = await client.get(f"{API}/changes", headers=factory.headers(clin))
    assert r.status_code == 200, r.text
    page = r.json()
    assert len(page["items"]) == 50 and page["has_more"] is True
    r = await client.get(f"{API}/changes", headers=factory.headers(clin), params={"limit": 200})
    assert len(r.json()["items"]) == 60 and r.json()["has_more"] is False
