"""Malformed input gets a 4xx problem, never a 500 (issue 16), on every route: numbers past
what the database holds, a list's cursor replayed on another list, JSON nested past any
parser's depth. The fuzz run over the whole API is tests/test_schemathesis.py."""

from typing import Any

import pytest

from app.core.principal import Role
from tests.cases.support import case_body
from tests.core.helpers import API, assert_problem
from tests.rounds.support import make_round

HUGE = [2**31, 2**63, 2**64, 10**30, -1]


async def _world(client, factory) -> dict[str, Any]:
    """Two of everything a list can page over, and who may read each list."""
    org = await factory.make_org()
    await factory.make_org()
    admin = await factory.make_user(Role.admin)
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    partner = await factory.make_client(org.id)
    await factory.make_client(org.id)
    case = await factory.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    await factory.make_case(org.id, submitted_by_id=clinician.id)
    for i in range(2):
        r = await client.post(
            f"{API}/cases/{case.id}/messages",
            json={"body": f"m{i}", "client_msg_id": f"c{i}"},
            headers=factory.headers(clinician),
        )
        assert r.status_code == 201, r.text
    series = await make_round(org.id)
    for i in range(2):
        r = await client.post(
            f"{API}/webhooks",
            json={"url": f"https://partner.example.org/{i}", "events": ["case.assigned"]},
            headers=factory.headers(partner),
        )
        assert r.status_code == 201, r.text
    return {
        "ids": {"case_id": case.id, "round_id": series.id},
        "who": [factory.headers(w) for w in (admin, clinician, specialist, partner)],
    }


def _list_routes(app) -> list[tuple[str, str]]:
    """Every GET that pages with `cursor` or `since`: (path template, parameter)."""
    found = []
    for path, ops in app.openapi()["paths"].items():
        names = {p["name"] for p in ops.get("get", {}).get("parameters", [])}
        for name in ("cursor", "since"):
            if name in names:
                found.append((path, name))
    return found


async def test_a_cursor_from_one_list_is_refused_by_every_other(app, client, factory):
    w = await _world(client, factory)
    readable: list[tuple[str, str, dict[str, str]]] = []
    cursors: dict[str, str] = {}
    for template, name in _list_routes(app):
        try:
            url = template.format(**w["ids"])
        except KeyError:  # a list under a resource this world has none of
            continue
        for headers in w["who"]:
            r = await client.get(url, params={"limit": 1}, headers=headers)
            if r.status_code == 200:
                readable.append((url, name, headers))
                if r.json().get("next_cursor"):
                    cursors[url] = r.json()["next_cursor"]
                break
    assert len(readable) >= 12, readable
    assert len(cursors) >= 8, cursors.keys()  # users, cases, messages, changes, rounds ...

    for url, name, headers in readable:
        for source, cursor in cursors.items():
            r = await client.get(url, params={"limit": 1, name: cursor}, headers=headers)
            assert r.status_code < 500, (source, url, r.text)
            if r.status_code != 200:  # a list sharing the source's key may take it
                assert_problem(r, 400, "invalid-cursor")
    # The issue's own example: a consult's message cursor (a number) on the case list.
    messages = f"{API}/cases/{w['ids']['case_id']}/messages"
    r = await client.get(f"{API}/cases", params={"cursor": cursors[messages]}, headers=w["who"][1])
    assert_problem(r, 400, "invalid-cursor")
    assert "another list" in r.json()["detail"]


@pytest.mark.parametrize("value", HUGE)
async def test_a_sequence_number_past_what_the_database_holds_is_422(client, factory, value):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    specialist = await factory.make_user(Role.specialist)
    case = await factory.make_case(
        org.id, assigned_specialist_id=specialist.id, submitted_by_id=clinician.id
    )
    h = factory.headers(clinician)
    r = await client.get(f"{API}/cases/{case.id}/messages", params={"after_seq": value}, headers=h)
    assert assert_problem(r, 422)["errors"][0]["pointer"] == "#query/after_seq"
    # FHIR pages by an opaque cursor (no sequence number to overflow): a huge `_count` is
    # clamped, as FHIR says, and a negative one refused with an OperationOutcome.
    r = await client.get(
        f"{API}/fhir/Communication",
        params={"based-on": f"ServiceRequest/{case.id}", "_count": value},
        headers=h,
    )
    if int(value) < 0:
        assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
        assert r.json()["issue"][0]["expression"] == ["_count"]
    else:
        assert r.status_code == 200, r.text
        assert "_count=200" in r.json()["link"][0]["url"]
    # The largest that exists is fine.
    r = await client.get(
        f"{API}/cases/{case.id}/messages", params={"after_seq": 2**31 - 1}, headers=h
    )
    assert r.status_code == 200 and r.json()["items"] == []


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("route", ["cases", "organizations"])  # the lean path and the ORM one
async def test_json_nested_past_any_parser_is_a_4xx(client, factory, route):
    org = await factory.make_org()
    who = (
        await factory.make_user(Role.clinician, organization_id=org.id)
        if route == "cases"
        else await factory.make_user(Role.admin)
    )
    h = {**factory.headers(who), "Content-Type": "application/json"}
    for depth in (1_000, 100_000):
        r = await client.post(f"{API}/{route}", content=_nested(depth), headers=h)
        assert 400 <= r.status_code < 500, (depth, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("application/problem+json")
    body = case_body(summary={"deep": [[[[[[[[["x"]]]]]]]]]})
    r = await client.post(f"{API}/cases", json=body, headers=factory.headers(who))
    assert 400 <= r.status_code < 500


async def test_null_for_a_field_that_always_has_a_value_is_422(client, factory):
    """Found by the fuzz run: `"languages": null` emptied a facility, whose answer then
    failed its own schema (500)."""
    org = await factory.make_org()
    h = factory.headers(await factory.make_user(Role.coordinator))
    body = {"local_resources": None, "languages": None, "name": "Infinity"}
    r = await client.patch(f"{API}/organizations/{org.id}", json=body, headers=h)
    problem = assert_problem(r, 422)
    assert {e["pointer"] for e in problem["errors"]} == {"/local_resources", "/languages"}
    r = await client.get(f"{API}/organizations/{org.id}", headers=h)
    assert r.status_code == 200 and r.json()["name"] == org.name  # nothing was changed


async def test_text_no_database_can_store_is_a_4xx(client, factory):
    """Found by the fuzz run on PostgreSQL: a NUL character in a query, a JSON body or a
    form field reached the database (500); so did a lone surrogate."""
    org = await factory.make_org()
    h = factory.headers(await factory.make_user(Role.coordinator))
    r = await client.get(f"{API}/offers", params={"case_id": "case_\x00x"}, headers=h)
    assert assert_problem(r, 422)["errors"][0]["pointer"] == "#query/case_id"
    r = await client.get(f"{API}/organizations/{org.id}%00", headers=h)
    assert assert_problem(r, 422)["errors"][0]["pointer"] == "#path/organization_id"
    for bad in ('"Clinic \\u0000"', '"Clinic \\ud800"'):
        raw = '{"name": ' + bad + "}"
        r = await client.patch(
            f"{API}/organizations/{org.id}",
            content=raw,
            headers={**h, "Content-Type": "application/json"},
        )
        assert assert_problem(r, 422)["errors"][0]["pointer"] == "/name"
    # A form field, where no schema reads the text first.
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": "a\x00@example.org", "password": "x" * 12},
    )
    assert 400 <= r.status_code < 500, r.text
