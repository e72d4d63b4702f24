"""OAuth 2 as a partner's library expects it: RFC 6749 errors and client authentication,
RFC 6750 challenges, RFC 8414 metadata, RFC 7662 introspection; driven with Authlib."""

import base64
from urllib.parse import quote_plus

import httpx
import pytest

from app.core.principal import Role
from tests.core.helpers import assert_problem

API = "/api/v1"
TOKEN = f"{API}/auth/token"
SECRET = "cs_test-secret"
PASSWORD = "correct-horse-battery"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _oauth_error(r, status: int, error: str) -> dict:
    """An RFC 6749 §5.2 error, still in the service's problem+json shape."""
    body = assert_problem(r, status)
    assert body["error"] == error, body
    assert body["error_description"] == body["detail"]
    assert r.headers["cache-control"] == "no-store"
    return body


@pytest.fixture
async def partner(factory):
    org = await factory.make_org()
    c = await factory.make_client(org.id, scopes=["cases:read", "cases:write"])
    return org, c


async def test_token_answers_are_not_cached(client, partner):
    _, c = partner
    r = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=_basic(c.client_id, SECRET)
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    assert r.json()["token_type"] == "bearer" and r.json()["scope"] == "cases:read cases:write"


async def test_client_secret_basic_and_post_both_authenticate(client, partner):
    _, c = partner
    basic = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=_basic(c.client_id, SECRET)
    )
    post = await client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": c.client_id,
            "client_secret": SECRET,
        },
    )
    assert basic.status_code == post.status_code == 200
    # Both ways at once is one way too many (RFC 6749 §2.3).
    both = await client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": c.client_id,
            "client_secret": SECRET,
        },
        headers=_basic(c.client_id, SECRET),
    )
    _oauth_error(both, 400, "invalid_request")


async def test_basic_credentials_are_form_decoded(client, factory):
    org = await factory.make_org()
    odd = "cs_a+b:c/d%e"  # every character RFC 6749 §2.3.1 makes the client encode
    c = await factory.make_client(org.id, secret=odd)
    r = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=_basic(c.client_id, odd)
    )
    assert r.status_code == 200, r.text


async def test_every_error_names_its_rfc_6749_code(client, partner, factory):
    _, c = partner
    user = await factory.make_user(Role.specialist, password=PASSWORD)
    wrong = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=_basic(c.client_id, "nope")
    )
    _oauth_error(wrong, 401, "invalid_client")
    assert wrong.headers["www-authenticate"] == 'Basic realm="consult"'
    _oauth_error(
        await client.post(TOKEN, data={"grant_type": "client_credentials"}), 401, "invalid_client"
    )
    _oauth_error(
        await client.post(
            TOKEN, data={"grant_type": "password", "username": user.email, "password": "wrong-one"}
        ),
        400,
        "invalid_grant",
    )
    _oauth_error(
        await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": "x.y.z"}),
        400,
        "invalid_grant",
    )
    _oauth_error(
        await client.post(
            TOKEN,
            data={"grant_type": "client_credentials", "scope": "webhooks:manage"},
            headers=_basic(c.client_id, SECRET),
        ),
        400,
        "invalid_scope",
    )
    unsupported = await client.post(TOKEN, data={"grant_type": "authorization_code", "code": "x"})
    _oauth_error(unsupported, 400, "unsupported_grant_type")
    _oauth_error(await client.post(TOKEN, data={}), 400, "invalid_request")
    _oauth_error(await client.post(TOKEN, data={"grant_type": "password"}), 400, "invalid_request")
    # A JSON body is not the form the endpoint reads: said so, not only "lacks a parameter".
    body = _oauth_error(
        await client.post(TOKEN, json={"grant_type": "client_credentials"}), 400, "invalid_request"
    )
    assert "application/x-www-form-urlencoded" in body["detail"], body
    body = _oauth_error(await client.post(TOKEN, data={}), 400, "invalid_request")
    assert "urlencoded" not in body["detail"], body  # a form that lacks one: no such advice


async def test_bearer_challenges_follow_rfc_6750(client, factory):
    org = await factory.make_org()
    narrow = await factory.make_client(org.id, scopes=["rounds:read"])
    r = await client.get(f"{API}/me")
    assert_problem(r, 401)
    assert r.headers["www-authenticate"] == 'Bearer realm="consult"'  # no token, no error
    r = await client.get(f"{API}/me", headers={"Authorization": "Bearer not-a-token"})
    assert_problem(r, 401)
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    r = await client.get(f"{API}/organizations", headers=factory.headers(narrow))
    assert_problem(r, 403, "insufficient-scope")
    assert r.headers["www-authenticate"] == (
        'Bearer realm="consult", error="insufficient_scope", scope="cases:read"'
    )


async def test_metadata_follows_rfc_8414(app):
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

    base = "https://consult.example.org"  # as served behind TLS: the issuer is its address
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as c:
        r = await c.get("/.well-known/oauth-authorization-server")
        assert r.status_code == 200
        meta = AuthorizationServerMetadata(r.json())
        for check in (
            "issuer",
            "token_endpoint",
            "token_endpoint_auth_methods_supported",
            "grant_types_supported",
            "scopes_supported",
            "revocation_endpoint",
            "introspection_endpoint",
            "introspection_endpoint_auth_methods_supported",
            "service_documentation",
        ):
            getattr(meta, f"validate_{check}")()
        assert meta["issuer"] == base
        assert meta["token_endpoint"] == f"{base}/api/v1/auth/token"
        assert set(meta["token_endpoint_auth_methods_supported"]) == {
            "client_secret_basic",
            "client_secret_post",
        }
        assert set(meta["grant_types_supported"]) == {
            "password",
            "client_credentials",
            "refresh_token",
        }
        assert "cases:write" in meta["scopes_supported"]
        # The endpoints it names answer where it says.
        path = meta["introspection_endpoint"].removeprefix(base)
        assert (await c.post(path, data={"token": "x"})).status_code == 401
        path = meta["token_endpoint"].removeprefix(base)
        assert (await c.post(path, data={"grant_type": "password"})).status_code == 400


# --- introspection ------------------------------------------------------------------------


async def _client_token(client, c, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    r = await client.post(TOKEN, data=data, headers=_basic(c.client_id, SECRET))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


async def _introspect(client, c, token: str, **kw) -> dict:
    r = await client.post(
        f"{API}/auth/introspect", data={"token": token, **kw}, headers=_basic(c.client_id, SECRET)
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    return r.json()


async def test_introspection_of_own_and_facility_tokens(client, partner, factory):
    org, c = partner
    tok = await _client_token(client, c, "cases:read")
    info = await _introspect(client, c, tok)
    assert info["active"] is True and info["token_type"] == "access_token"
    assert info["client_id"] == c.client_id and info["scope"] == "cases:read"
    assert info["sub"] == c.id and info["organization_id"] == org.id and info["exp"] > info["iat"]

    clinician = await factory.make_user(Role.clinician, organization_id=org.id, password=PASSWORD)
    r = await client.post(
        TOKEN, data={"grant_type": "password", "username": clinician.email, "password": PASSWORD}
    )
    tokens = r.json()
    info = await _introspect(client, c, tokens["access_token"])
    assert info["active"] and info["sub"] == clinician.id and info["role"] == "clinician"
    info = await _introspect(client, c, tokens["refresh_token"], token_type_hint="refresh_token")
    assert info["active"] and info["token_type"] == "refresh_token"

    # Revoked, garbage: not active, and nothing more is said.
    await client.post(f"{API}/auth/revoke", data={"token": tok})
    assert await _introspect(client, c, tok) == {"active": False}
    assert await _introspect(client, c, "garbage") == {"active": False}


async def test_introspection_says_nothing_of_other_facilities_tokens(client, partner, factory):
    _, c = partner
    other_org = await factory.make_org()
    other = await factory.make_client(other_org.id)
    stranger = await factory.make_user(Role.clinician, organization_id=other_org.id)
    assert await _introspect(client, c, await _client_token(client, other)) == {"active": False}
    assert await _introspect(client, c, factory.token(stranger)) == {"active": False}
    # An admin may ask about any token; the other client's is live.
    admin = await factory.make_user(Role.admin)
    r = await client.post(
        f"{API}/auth/introspect",
        data={"token": await _client_token(client, other)},
        headers=factory.headers(admin),
    )
    assert r.status_code == 200 and r.json()["active"] is True


async def test_introspection_needs_an_authenticated_caller(client, partner, factory):
    _, c = partner
    tok = await _client_token(client, c)
    r = await client.post(f"{API}/auth/introspect", data={"token": tok})
    _oauth_error(r, 401, "invalid_client")
    r = await client.post(
        f"{API}/auth/introspect", data={"token": tok}, headers=_basic(c.client_id, "wrong")
    )
    _oauth_error(r, 401, "invalid_client")
    # A client's own bearer token authenticates it too.
    r = await client.post(
        f"{API}/auth/introspect", data={"token": tok}, headers={"Authorization": f"Bearer {tok}"}
    )
    assert r.status_code == 200 and r.json()["active"] is True
    specialist = await factory.make_user(Role.specialist)
    r = await client.post(
        f"{API}/auth/introspect", data={"token": tok}, headers=factory.headers(specialist)
    )
    assert_problem(r, 403)
    _oauth_error(
        await client.post(f"{API}/auth/introspect", headers=_basic(c.client_id, SECRET)),
        400,
        "invalid_request",
    )


# --- a real OAuth library --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_authlib_fetches_and_uses_a_client_credentials_token(app, partner, method):
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

    org, c = partner
    transport = httpx.ASGITransport(app=app)
    async with AsyncOAuth2Client(
        client_id=c.client_id,
        client_secret=SECRET,
        token_endpoint_auth_method=method,
        scope="cases:read",
        transport=transport,
        base_url="http://testserver",
    ) as oauth:
        token = await oauth.fetch_token(
            "http://testserver" + TOKEN, grant_type="client_credentials"
        )
        assert token["scope"] == "cases:read" and token["expires_at"] > 0
        me = await oauth.get(f"{API}/me")
        assert me.status_code == 200, me.text
        assert me.json()["organization_id"] == org.id and me.json()["scopes"] == ["cases:read"]

    async with AsyncOAuth2Client(
        client_id=c.client_id,
        client_secret="wrong",
        token_endpoint_auth_method=method,
        transport=httpx.ASGITransport(app=app),
    ) as oauth:
        with pytest.raises(OAuthError) as e:
            await oauth.fetch_token("http://testserver" + TOKEN, grant_type="client_credentials")
        assert e.value.error == "invalid_client"


async def test_authlib_password_grant_refresh_and_errors(app, factory):
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

    user = await factory.make_user(Role.specialist, password=PASSWORD)
    url = "http://testserver" + TOKEN
    async with AsyncOAuth2Client(
        token_endpoint_auth_method="none", transport=httpx.ASGITransport(app=app)
    ) as oauth:
        token = await oauth.fetch_token(url, username=user.email, password=PASSWORD)
        assert token["refresh_token"]
        fresh = await oauth.refresh_token(url, refresh_token=token["refresh_token"])
        assert fresh["refresh_token"] != token["refresh_token"]
        with pytest.raises(OAuthError) as e:
            await oauth.refresh_token(url, refresh_token=token["refresh_token"])  # spent
        assert e.value.error == "invalid_grant"
        with pytest.raises(OAuthError) as e:
            await oauth.fetch_token(url, username=user.email, password="wrong-password")
        assert e.value.error == "invalid_grant"


async def test_me_describes_an_api_client(client, partner):
    org, c = partner
    tok = await _client_token(client, c, "cases:write")
    r = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "client" and body["id"] == c.id and body["client_id"] == c.client_id
    assert body["organization_id"] == org.id
    assert body["scopes"] == ["cases:write"]
    assert body["granted_scopes"] == ["cases:read", "cases:write"]
    assert "secret" not in r.text


async def test_a_token_asked_for_with_fewer_scopes_is_told_the_token_lacks_one(client, partner):
    """A partner took a read-only token from a client that may also write: the refusal
    names the token, so she asks for a new token rather than asking the programme's admin
    for a scope her client already has."""
    from tests.cases.support import case_body

    _, c = partner
    r = await client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "scope": "cases:read"},
        headers=_basic(c.client_id, SECRET),
    )
    assert r.status_code == 200 and r.json()["scope"] == "cases:read", r.text
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await client.post(f"{API}/cases", json=case_body(), headers=h)
    body = assert_problem(r, 403, "insufficient-scope")
    assert body["scope"] == "cases:write"
    assert "token" in body["detail"] and "API client lacks" not in body["detail"]
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
