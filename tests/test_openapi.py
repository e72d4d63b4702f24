"""The OpenAPI document as client generators and fuzzers read it: stable operation ids, one
name per schema, the headers the server reads and sends, OAuth 2 flows with scopes,
`servers`, the webhooks, and 405 answers that name every allowed method."""

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.events.kinds import WEBHOOK_EVENTS


@pytest.fixture
async def schema(client) -> dict:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            yield path, method, op


async def test_operation_ids_are_unique_and_follow_the_naming_rule(app, schema):
    ids = [op["operationId"] for _, _, op in _operations(schema)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    # The rule: the endpoint function's name, so an id survives a path or method change.
    by_route = {
        (rc.path_format, m.lower()): rc.name
        for rc in iter_route_contexts(app.routes)
        if isinstance(rc.original_route, APIRoute)
        for m in rc.methods
    }
    for path, method, op in _operations(schema):
        assert op["operationId"] == by_route[(path, method)], (method, path)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", op["operationId"])
    # A few a partner's generated client already calls: they must not move.
    for known in ("token", "create_case", "list_cases", "get_case", "me", "create_webhook"):
        assert known in ids, known


async def test_one_plain_name_per_schema(schema):
    names = list(schema["components"]["schemas"])
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", n) for n in names), [
        n for n in names if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", n)
    ]
    assert "RoundParticipantCreate" in names and "ParticipantCreate" in names


async def test_the_headers_the_server_reads_and_sends_are_documented(schema):
    posts = 0
    for path, method, op in _operations(schema):
        params = {p["name"].lower(): p for p in op.get("parameters", []) if p["in"] == "header"}
        if method == "post":
            posts += 1
            assert "idempotency-key" in params, path
        if "428" in op["responses"]:
            assert params["if-match"]["required"] is True, (method, path)
        for code, resp in op["responses"].items():
            assert "X-Request-ID" in resp.get("headers", {}), (method, path, code)
            if code == "201":
                assert "Location" in resp["headers"], (method, path)
            if code == "429":
                assert "Retry-After" in resp["headers"], (method, path)
        if "if-match" in params or "if-none-match" in params:
            ok = [c for c in op["responses"] if c.startswith("2")]
            assert all("ETag" in op["responses"][c]["headers"] for c in ok), (method, path)
    assert posts >= 28
    patch_note = schema["paths"]["/api/v1/notes/{note_id}"]["patch"]
    assert any(p["name"].lower() == "if-match" and p["required"] for p in patch_note["parameters"])


async def test_enforced_rules_are_in_the_schema(schema):
    comps = schema["components"]["schemas"]
    specialty = comps["CaseCreate"]["properties"]["specialty"]
    assert "dermatology" in specialty["enum"]
    tz = comps["OrganizationCreate"]["properties"]["timezone"]
    assert "America/Argentina/Salta" in tz["enum"]
    cursor = next(
        p
        for p in schema["paths"]["/api/v1/organizations"]["get"]["parameters"]
        if p["name"] == "cursor"
    )
    assert re.fullmatch(cursor["schema"]["pattern"], "eyJpZCI6MX0.0123456789abcdef")


async def test_servers_security_and_webhooks(schema):
    assert schema["servers"]
    oauth = schema["components"]["securitySchemes"]["oauth2"]
    cc = oauth["flows"]["clientCredentials"]
    assert cc["tokenUrl"] == "/api/v1/auth/token" and "cases:write" in cc["scopes"]
    assert "password" in oauth["flows"]
    assert schema["paths"]["/api/v1/webhooks"]["post"]["security"] == [
        {"oauth2": ["webhooks:manage"]}
    ]
    assert set(schema["webhooks"]) == set(WEBHOOK_EVENTS)
    body = schema["webhooks"]["case.cancelled"]["post"]["requestBody"]["content"]
    props = body["application/json"]["schema"]["properties"]
    assert props["type"]["const"] == "case.cancelled" and "data" in props


async def test_405_names_every_method_of_the_path(client):
    r = await client.put("/api/v1/cases")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST"}
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_nul_in_any_text_is_refused_the_same_on_every_database(client, factory):
    from app.core.principal import Role

    h = factory.headers(await factory.make_user(Role.admin))
    r = await client.get("/api/v1/users", params={"organization_id": "a\x00b"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#query/organization_id"
    r = await client.post(
        "/api/v1/organizations",
        headers=h,
        json={"name": "San\x00Roque", "country": "AR", "timezone": "UTC", "languages": ["es"]},
    )
    assert r.status_code == 422 and "NUL" in r.text
    r = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "a\x00", "password": "x"}
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def _body_examples(schema: dict, media: dict) -> list:
    """A request body's examples: the media type's own, or its schema's (through a $ref,
    or a $ref inside anyOf, as an optional body is written)."""
    comps = schema["components"]["schemas"]
    found = [media["example"]] if "example" in media else []
    found += [e["value"] for e in media.get("examples", {}).values()]
    node = media.get("schema", {})
    for s in [node, *node.get("anyOf", [])]:
        target = comps[s["$ref"].rsplit("/", 1)[1]] if "$ref" in s else s
        found += target.get("examples", [])
    return found


async def test_every_request_body_has_a_valid_example(schema):
    import jsonschema_rs

    checked = 0
    for path, method, op in _operations(schema):
        for ctype, media in op.get("requestBody", {}).get("content", {}).items():
            examples = _body_examples(schema, media)
            assert examples, f"{method.upper()} {path} ({ctype}) has no example"
            # Valid against the body's schema (schemathesis sends them as positive data).
            check = jsonschema_rs.Draft202012Validator(
                {**media["schema"], "components": schema["components"]}, validate_formats=True
            )
            for example in examples:
                errors = [e.message for e in check.iter_errors(example)]
                assert not errors, (method, path, example, errors)
            checked += 1
    assert checked >= 40
