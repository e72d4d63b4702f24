"""Request bodies: unknown fields, wrong content types, oversized and malformed bodies."""

import json

from app.core.config import get_settings
from app.core.principal import Role
from tests.core.helpers import API, ORG, assert_problem


async def _admin_headers(factory):
    return factory.headers(await factory.make_user(Role.admin))


async def test_a_good_body_is_accepted(client, factory):
    r = await client.post(f"{API}/organizations", json=ORG, headers=await _admin_headers(factory))
    assert r.status_code == 201, r.text
    assert r.json()["languages"] == ["es", "qu"] and r.json()["id"]


async def test_unknown_field_is_422_with_a_json_pointer(client, factory):
    h = await _admin_headers(factory)
    r = await client.post(f"{API}/organizations", json={**ORG, "contry": "AR"}, headers=h)
    body = assert_problem(r, 422, "validation-error")
    assert {
        "pointer": "/contry",
        "detail": "Extra inputs are not permitted",
        "code": "extra_forbidden",
    } in body["errors"]
    nested = {**ORG, "local_resources": {"text": "x", "tag": ["cbc"]}}
    body = assert_problem(await client.post(f"{API}/organizations", json=nested, headers=h), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/local_resources/tag"]
    # A wrong value in a list points at its index.
    bad_lang = {**ORG, "languages": ["es", "not a tag!"]}
    body = assert_problem(await client.post(f"{API}/organizations", json=bad_lang, headers=h), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/languages/1"]
    # Query parameters are pointed at too.
    body = assert_problem(await client.get(f"{API}/organizations?limit=0", headers=h), 422)
    assert body["errors"][0]["pointer"] == "#query/limit"
    # Each says its kind and the bound it broke, so a client can say it in its own words.
    assert (body["errors"][0]["code"], body["errors"][0]["limit"]) == ("greater_than_equal", 1)
    long_name = {**ORG, "name": "x" * 10_000}
    body = assert_problem(await client.post(f"{API}/organizations", json=long_name, headers=h), 422)
    (err,) = body["errors"]
    assert (err["pointer"], err["code"]) == ("/name", "string_too_long") and err["limit"] > 0


async def test_patch_rejects_unknown_fields(client, factory):
    h = await _admin_headers(factory)
    org = await factory.make_org()
    r = await client.patch(f"{API}/organizations/{org.id}", json={"nmae": "x"}, headers=h)
    assert assert_problem(r, 422)["errors"][0]["pointer"] == "/nmae"


async def test_wrong_content_type_is_415(client, factory):
    h = await _admin_headers(factory)
    for ctype, content in (
        ("text/plain", json.dumps(ORG)),
        ("application/x-www-form-urlencoded", "name=Clinic&country=AR"),
        ("application/xml", "<org/>"),
    ):
        r = await client.post(
            f"{API}/organizations", content=content, headers={**h, "Content-Type": ctype}
        )
        assert_problem(r, 415, "unsupported-media-type")
    # JSON with a charset or a +json type is fine.
    r = await client.post(
        f"{API}/organizations",
        content=json.dumps(ORG),
        headers={**h, "Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 201


async def test_a_body_without_a_type_or_in_a_content_coding_is_415(client, factory):
    """JSON sent with no Content-Type was dropped unread and answered as a missing body
    (422 "valid dictionary"); a gzip Content-Encoding was ignored and the body read as it
    came. Both are 415, saying what to send."""
    h = await _admin_headers(factory)
    r = await client.post(f"{API}/organizations", content=json.dumps(ORG).encode(), headers=h)
    assert "content-type" not in r.request.headers
    assert "application/json" in assert_problem(r, 415, "unsupported-media-type")["detail"]
    r = await client.post(
        f"{API}/organizations",
        content=json.dumps(ORG),
        headers={**h, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert "Content-Encoding" in assert_problem(r, 415, "unsupported-media-type")["detail"]
    assert (await client.get(f"{API}/organizations", headers=h)).json()["items"] == []
    r = await client.post(
        f"{API}/organizations",
        content=json.dumps(ORG),
        headers={**h, "Content-Type": "application/json", "Content-Encoding": "identity"},
    )
    assert r.status_code == 201, r.text


async def test_a_query_parameter_the_route_does_not_read_is_422(client, factory):
    """`?stauts=` (a typo) answered every facility as if it had filtered them: refused,
    naming it and what the route takes, as an unknown body field is."""
    h = await _admin_headers(factory)
    await factory.make_org()
    r = await client.get(f"{API}/organizations?limit=5&stauts=closed", headers=h)
    body = assert_problem(r, 422)
    (err,) = body["errors"]
    assert err["code"] == "unknown_parameter" and "stauts" in err["pointer"], err
    assert "limit" in err["detail"] and "cursor" in err["detail"], err
    assert (await client.get(f"{API}/organizations?limit=5", headers=h)).status_code == 200


async def test_oversized_body_is_413(client, factory):
    h = await _admin_headers(factory)
    limit = get_settings().max_body_bytes
    big = {**ORG, "local_resources": {"text": "x" * (limit + 10), "tags": []}}
    r = await client.post(f"{API}/organizations", json=big, headers=h)
    body = assert_problem(r, 413, "payload-too-large")
    assert body["max_bytes"] == limit and f"{limit} bytes" in body["detail"]

    # A streamed body that never announced its length is cut off as it goes.
    async def chunks():
        payload = json.dumps(big).encode()
        for i in range(0, len(payload), 65536):
            yield payload[i : i + 65536]

    r = await client.post(
        f"{API}/organizations", content=chunks(), headers={**h, "Content-Type": "application/json"}
    )
    assert f"{limit} bytes" in assert_problem(r, 413)["detail"]  # the same words, streamed
    # Even before authentication: the limit protects the server, not a route.
    r = await client.post(f"{API}/organizations", json=big)
    assert_problem(r, 413)


async def test_malformed_json_is_400(client, factory):
    h = await _admin_headers(factory)
    for content in ('{"name": ', "not json at all", '{"name": "x",}'):
        r = await client.post(
            f"{API}/organizations",
            content=content,
            headers={**h, "Content-Type": "application/json"},
        )
        assert_problem(r, 400, "malformed-body")


async def test_every_error_is_problem_json(client, factory):
    assert_problem(await client.get(f"{API}/no-such-route"), 404, "not-found")
    assert_problem(await client.delete(f"{API}/organizations"), 405)
    assert_problem(await client.get(f"{API}/organizations"), 401, "unauthorized")
    h = factory.headers(await factory.make_user(Role.specialist))
    assert_problem(await client.post(f"{API}/organizations", json=ORG, headers=h), 403)
    assert_problem(
        await client.get(f"{API}/organizations/org_missing", headers=await _admin_headers(factory)),
        404,
    )


async def test_openapi_documents_problem_json(client):
    schema = (await client.get("/openapi.json")).json()
    assert "Problem" in schema["components"]["schemas"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    op = schema["paths"]["/api/v1/organizations"]["post"]
    for code in ("401", "403", "413", "415", "422"):
        content = op["responses"][code]["content"]
        assert list(content) == ["application/problem+json"], (code, content)
        assert content["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])


async def test_unhandled_errors_are_problem_json_and_leak_nothing(caplog):
    """A crash is a problem+json 500; neither the response nor the log quotes the error."""
    import httpx
    from fastapi import FastAPI

    from app.core.errors import install_error_handlers
    from app.core.middleware import UnhandledErrorMiddleware

    mini = FastAPI()
    install_error_handlers(mini)
    mini.add_middleware(UnhandledErrorMiddleware)

    marker = "MRN-" + str(445566)  # built at run time: tracebacks quote source lines

    @mini.get("/boom")
    async def boom() -> None:
        raise ValueError(f"patient {marker} Juana Pérez")

    transport = httpx.ASGITransport(app=mini)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        with caplog.at_level("DEBUG"):
            r = await c.get("/boom")
    body = assert_problem(r, 500, "internal")
    assert marker not in r.text and marker not in caplog.text
    assert "ValueError" in caplog.text and "/boom" in caplog.text
    assert body["instance"] == "/boom"


async def test_tools_with_their_own_habits_may_add_query_parameters(client, factory):
    """Probes, scrapers, calendar apps and OAuth libraries (RFC 6749 lets a token endpoint's
    URL carry a query) are not refused for a parameter the route does not read, nor is a
    GET's cache-buster `_`; a write is not told it takes `limit` and `cursor`."""
    assert (await client.get("/healthz?verbose=1")).status_code == 200
    assert (await client.get("/metrics?format=text")).status_code == 200
    admin = await factory.make_user(Role.admin, password="admin-password-1")
    r = await client.post(
        f"{API}/auth/token?tenant=x",
        data={"grant_type": "password", "username": admin.email, "password": "admin-password-1"},
    )
    assert r.status_code == 200, r.text
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get(f"{API}/organizations?_=1700000000", headers=h)).status_code == 200
    r = await client.post(f"{API}/organizations?limit=5", json=ORG, headers=h)
    (err,) = assert_problem(r, 422)["errors"]
    assert err["code"] == "unknown_parameter" and "(it takes: none)" in err["detail"], err


async def test_a_time_past_the_calendars_ends_is_422_not_500(client, factory):
    h = await _admin_headers(factory)
    for t in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        r = await client.get(f"{API}/metrics/quality", params={"from": t}, headers=h)
        (err,) = assert_problem(r, 422)["errors"]
        assert err["code"] == "datetime_out_of_range", err


def test_every_true_false_or_number_field_of_a_request_body_is_checked():
    """The JSON-type check knows every field that takes a boolean or a number, however it
    is spelled (`int | None`, `Annotated[int, Field(...)] | None`, `StrictBool`)."""
    from typing import Annotated, get_args, get_origin

    import app.main  # noqa: F401  (every domain's schemas imported)
    from app.core.schemas import RequestBody, _scalar_kinds

    def subclasses(c):
        for sub in c.__subclasses__():
            yield sub
            yield from subclasses(sub)

    def scalar(a) -> bool:
        if get_origin(a) is Annotated:
            return scalar(get_args(a)[0])
        if a in (bool, int, float):
            return True
        return any(scalar(x) for x in get_args(a) if x is not type(None))

    missed = [
        f"{m.__name__}.{name}"
        for m in subclasses(RequestBody)
        for name, f in m.model_fields.items()
        if scalar(f.annotation) and name not in _scalar_kinds(m)
    ]
    assert missed == []
