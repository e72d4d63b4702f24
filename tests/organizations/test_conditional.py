"""A facility is a mutable document (../shared/API.md): GET and PATCH answer with an ETag
built from its version, PATCH honours If-Match when it is sent (412 when stale, nothing
changed), and of two clinicians editing local_resources from the same read one is told,
not silently overwritten."""

import asyncio

from app.core.principal import Role
from tests.core.helpers import API, assert_problem


async def _world(factory):
    org = await factory.make_org(local_resources={"text": "Basic lab", "tags": ["cbc"]})
    ana = factory.headers(await factory.make_user(Role.clinician, organization_id=org.id))
    ben = factory.headers(await factory.make_user(Role.clinician, organization_id=org.id))
    return org, f"{API}/organizations/{org.id}", ana, ben


async def test_a_read_and_a_change_answer_with_the_version_as_etag(client, factory):
    _, url, ana, _ = await _world(factory)
    r = await client.get(url, headers=ana)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.headers["etag"] == '"1"'
    change = {"local_resources": {"text": "+ ultrasound", "tags": ["us"]}}
    r = await client.patch(url, headers=ana, json=change)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    assert r.json()["local_resources"] == change["local_resources"]
    r = await client.get(url, headers=ana)
    assert r.headers["etag"] == '"2"' and r.json()["version"] == 2
    # A listed facility reads as the facility itself, version and all.
    listed = (await client.get(f"{API}/organizations", headers=ana)).json()["items"]
    assert listed == [r.json()]


async def test_if_none_match_with_the_current_etag_is_304(client, factory):
    _, url, ana, _ = await _world(factory)
    r = await client.get(url, headers={**ana, "If-None-Match": '"1"'})
    assert r.status_code == 304 and r.headers["etag"] == '"1"'
    await client.patch(url, headers=ana, json={"name": "Renamed"})
    r = await client.get(url, headers={**ana, "If-None-Match": '"1"'})
    assert r.status_code == 200 and r.json()["name"] == "Renamed"


async def test_a_change_from_a_stale_read_is_412_and_changes_nothing(client, factory):
    _, url, ana, ben = await _world(factory)
    tag = (await client.get(url, headers=ana)).headers["etag"]
    assert tag == (await client.get(url, headers=ben)).headers["etag"]
    r = await client.patch(
        url,
        headers={**ben, "If-Match": tag},
        json={"local_resources": {"text": "Basic lab, x-ray", "tags": ["cbc", "x-ray"]}},
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        url,
        headers={**ana, "If-Match": tag},
        json={"local_resources": {"text": "Basic lab, no x-ray", "tags": ["cbc"]}},
    )
    body = assert_problem(r, 412)
    assert body["current_etag"] == '"2"'  # the version to read again
    now = (await client.get(url, headers=ana)).json()
    assert now["local_resources"] == {"text": "Basic lab, x-ray", "tags": ["cbc", "x-ray"]}
    assert now["version"] == 2
    # Read again, her change lands on their version; `*` names whatever is current.
    r = await client.patch(url, headers={**ana, "If-Match": '"2"'}, json={"name": "Posta"})
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    r = await client.patch(url, headers={**ana, "If-Match": "*"}, json={"name": "Posta 2"})
    assert r.status_code == 200 and r.headers["etag"] == '"4"'
    # A weak tag never matches a write (strong comparison).
    r = await client.patch(url, headers={**ana, "If-Match": 'W/"4"'}, json={"name": "x"})
    assert_problem(r, 412)
    # A malformed body is told before a stale If-Match.
    r = await client.patch(url, headers={**ana, "If-Match": '"1"'}, json={"name": 12})
    assert_problem(r, 422)


async def test_if_match_is_not_required_but_every_change_bumps_the_version(client, factory):
    _, url, ana, _ = await _world(factory)
    for n, text in enumerate(("one", "two"), start=2):
        r = await client.patch(url, headers=ana, json={"local_resources": {"text": text}})
        assert r.status_code == 200 and r.headers["etag"] == f'"{n}"', r.text
    r = await client.patch(url, headers=ana, json={})  # nothing changes: no new version
    assert r.status_code == 200 and r.headers["etag"] == '"3"'


async def test_two_concurrent_changes_from_one_etag_one_wins(client, factory):
    _, url, ana, ben = await _world(factory)
    a, b = await asyncio.gather(
        client.patch(
            url,
            headers={**ana, "If-Match": '"1"'},
            json={"local_resources": {"text": "from Ana", "tags": ["a"]}},
        ),
        client.patch(
            url,
            headers={**ben, "If-Match": '"1"'},
            json={"local_resources": {"text": "from Ben", "tags": ["b"]}},
        ),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 412], (a.text, b.text)
    winner = a if a.status_code == 200 else b
    now = (await client.get(url, headers=ana)).json()
    assert now["version"] == 2
    assert now["local_resources"] == winner.json()["local_resources"]
