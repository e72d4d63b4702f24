"""Conditional requests through the one pipeline (app.core.routing.AppRoute and
app.core.conditional): every read the schema says has an ETag answers 304 to it, and a
write's body is judged before its If-Match."""

import pytest

from app.core.principal import Role
from tests.factories import API
from tests.matrix_support import PRINCIPALS, make_world
from tests.test_access_matrix import ROWS


@pytest.fixture
async def schema(client) -> dict:
    return (await client.get("/openapi.json")).json()


def _etagged_reads(schema: dict) -> set[str]:
    return {
        path
        for path, item in schema["paths"].items()
        if "get" in item
        and "ETag" in item["get"]["responses"].get("200", {}).get("headers", {})
        and not path.startswith(f"{API}/fhir")  # FHIR's reads answer as FHIR does
    }


async def _assert_304(client, url: str, headers: dict[str, str]) -> None:
    first = await client.get(url, headers=headers)
    assert first.status_code == 200, (url, first.text)
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"'), tag
    same = await client.get(url, headers={**headers, "If-None-Match": tag})
    assert same.status_code == 304, (url, same.status_code)
    assert same.content == b"" and same.headers["etag"] == tag
    # A weak copy of the tag matches too (If-None-Match compares weakly); another does not.
    weak = await client.get(url, headers={**headers, "If-None-Match": f"W/{tag}"})
    assert weak.status_code == 304, url
    other = await client.get(url, headers={**headers, "If-None-Match": '"not-it"'})
    assert other.status_code == 200 and other.headers["etag"] == tag, url


def test_the_reads_with_an_etag_include_every_single_resource(app):
    from app.main import create_app

    etagged = _etagged_reads(create_app().openapi())
    for path in (
        "/api/v1/me",
        "/api/v1/cases/{case_id}",
        "/api/v1/notes/{note_id}",
        "/api/v1/follow-ups/{follow_up_id}",
        "/api/v1/organizations/{organization_id}",
        "/api/v1/rounds/{round_id}",
        "/api/v1/specialists/{specialist_id}",
        "/api/v1/users/{user_id}",
        "/api/v1/offers/{offer_id}",
        "/api/v1/webhooks/{webhook_id}",
        "/api/v1/me/notification-preferences",
    ):
        assert path in etagged, path


async def test_every_read_with_an_etag_answers_304(client, factory, schema):
    """Walks the schema: each GET whose 200 carries an ETag is read by a principal the
    access matrix says may read it, then read again with that ETag."""
    etagged = _etagged_reads(schema)
    for path in etagged:
        assert "304" in schema["paths"][path]["get"]["responses"], path
    rows = {r.path: r for r in ROWS if r.method == "GET"}
    walked = set()
    for path in sorted(etagged):
        world = await make_world(factory)
        if "{" not in path:  # the caller's own resource: /me, its preferences
            for who in ("clinician_a", "specialist"):
                await _assert_304(client, path, world.headers(who))
            walked.add(path)
            continue
        row = rows[path]
        readers = [who for who in PRINCIPALS if row.expect[who] == 200]
        assert readers, path
        url, _ = await row.setup(world)
        await _assert_304(client, url, world.headers(readers[0]))
        walked.add(path)
    assert walked == etagged


async def test_me_changes_its_etag_when_the_user_changes(client, factory):
    user = await factory.make_user(Role.clinician, name="Ana")
    h = factory.headers(user)
    admin = factory.headers(await factory.make_user(Role.admin))
    tag = (await client.get(f"{API}/me", headers=h)).headers["etag"]
    r = await client.patch(f"{API}/users/{user.id}", headers=admin, json={"name": "Ana María"})
    assert r.status_code == 200, r.text
    again = await client.get(f"{API}/me", headers={**h, "If-None-Match": tag})
    assert again.status_code == 200 and again.json()["name"] == "Ana María"
    assert again.headers["etag"] != tag


async def test_a_malformed_body_is_told_before_a_missing_or_stale_if_match(client, factory):
    """The body is validated first, whether the precondition is judged by the route's
    dependency (a round) or by its service (a note): 422, then 428 or 412."""
    from tests.notes.helpers import note_world, write_note

    w = await note_world(factory)
    note = await write_note(client, factory, w)
    h = factory.headers(w.specialist)
    url = f"{API}/notes/{note['id']}"
    bad = {"assessment": 12}
    r = await client.patch(url, headers=h, json=bad)  # no If-Match
    assert r.status_code == 422, r.text
    r = await client.patch(url, headers={**h, "If-Match": '"99"'}, json=bad)
    assert r.status_code == 422, r.text
    r = await client.patch(url, headers=h, json={})
    assert r.status_code == 428
    r = await client.patch(url, headers={**h, "If-Match": '"99"'}, json={})
    assert r.status_code == 412

    admin = factory.headers(await factory.make_user(Role.admin))
    world = await make_world(factory)
    row = next(r for r in ROWS if r.method == "PATCH" and r.path == f"{API}/rounds/{{round_id}}")
    round_url, _ = await row.setup(world)
    r = await client.patch(
        round_url, headers={**admin, "If-Match": '"99"'}, json={"duration_minutes": "long"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == "/duration_minutes"
    r = await client.patch(round_url, headers={**admin, "If-Match": '"99"'}, json={})
    assert r.status_code == 412
