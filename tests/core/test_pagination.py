"""Cursor pagination: stable while rows are inserted; a tampered cursor is 400."""

import base64

from app.core.pagination import decode_cursor, encode_cursor
from app.core.principal import Role
from tests.core.helpers import API, assert_problem


async def _all_pages(client, h, limit: int, between=None) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"{API}/organizations", params=params, headers=h)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        if between:
            await between()


async def test_pages_are_stable_while_rows_are_inserted(client, factory):
    h = factory.headers(await factory.make_user(Role.admin))
    # Ids made later sort later, within one millisecond too (app.core.db.new_id).
    before = [(await factory.make_org(name=f"Org {i}")).id for i in range(7)]
    added: list[str] = []

    async def insert() -> None:
        added.append((await factory.make_org(name="Inserted meanwhile")).id)

    seen = await _all_pages(client, h, 2, between=insert)
    # Newest first; every row that existed when paging began appears exactly once, and
    # rows inserted meanwhile never push an older row onto a page already read.
    assert seen == sorted(before, reverse=True)
    assert len(added) == 3
    again = await _all_pages(client, h, 3)
    assert again == sorted(before + added, reverse=True)


async def test_default_and_maximum_page_size(client, factory):
    h = factory.headers(await factory.make_user(Role.admin))
    r = await client.get(f"{API}/organizations", params={"limit": 201}, headers=h)
    assert_problem(r, 422)
    r = await client.get(f"{API}/organizations", params={"limit": 200}, headers=h)
    assert r.status_code == 200


async def test_tampered_cursor_is_400(client, factory):
    h = factory.headers(await factory.make_user(Role.admin))
    for i in range(3):
        await factory.make_org(name=f"Org {i}")
    page = (await client.get(f"{API}/organizations", params={"limit": 1}, headers=h)).json()
    cursor = page["next_cursor"]
    data, sig = cursor.rsplit(".", 1)
    forged_value = base64.urlsafe_b64encode(b'"org_zzzzzzzzzzzz"').decode().rstrip("=")
    for bad in (
        forged_value + "." + sig,
        data + "." + sig[:-1] + ("0" if sig[-1] != "0" else "1"),
        data,
        "garbage",
        "",
        "%%%.abc",
        encode_cursor("x", "organization.id").replace(".", ""),
    ):
        r = await client.get(f"{API}/organizations", params={"limit": 1, "cursor": bad}, headers=h)
        if bad == "":
            assert r.status_code == 200  # an empty cursor is the first page
            continue
        assert_problem(r, 400, "invalid-cursor")
    # The genuine cursor still works.
    r = await client.get(f"{API}/organizations", params={"limit": 1, "cursor": cursor}, headers=h)
    assert r.status_code == 200 and r.json()["items"][0]["id"] < page["items"][0]["id"]


def test_cursor_round_trip_and_signature():
    c = encode_cursor({"id": "usr_1", "n": 3}, "user.id")
    assert decode_cursor(c, "user.id") == {"id": "usr_1", "n": 3}


async def test_an_empty_cursor_is_the_first_page_everywhere_and_the_schema_says_so(client, factory):
    """`?cursor=` is every list's first page; the FHIR searches' `_cursor=` and the changes
    feed's `since=` now read it the same way, and the published pattern admits it (it did
    not, so a schema-driven client was told an empty cursor was invalid while the server
    took it)."""
    import re

    from app.core.pagination import CURSOR_PATTERN, encode_cursor

    assert re.fullmatch(CURSOR_PATTERN, "") and re.fullmatch(CURSOR_PATTERN, encode_cursor(1, "x"))
    admin = await factory.make_user(Role.admin)
    org = await factory.make_org()
    client_app = await factory.make_client(org.id)
    h = factory.headers(admin)
    r = await client.get(f"{API}/fhir/DocumentReference", params={"_cursor": ""}, headers=h)
    assert r.status_code == 200 and r.json()["total"] == 0
    r = await client.get(
        f"{API}/changes", params={"since": ""}, headers=factory.headers(client_app)
    )
    assert r.status_code == 200, r.text
    first = await client.get(f"{API}/changes", headers=factory.headers(client_app))
    assert r.json()["items"] == first.json()["items"]
