"""Signing in, refresh rotation and reuse detection, revocation, ended sessions, bad tokens."""

import base64
import json
import time
import uuid
from datetime import timedelta

import pytest
from jose import jwt

from app.core.config import get_settings
from app.core.principal import Role
from app.core.security import ALGORITHM, create_token

API = "/api/v1"
PASSWORD = "correct-horse-battery"


def _problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if code:
        assert body["type"].endswith("/" + code), body
    return body


async def _login(client, email: str, password: str = PASSWORD, **kw):
    return await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
        **kw,
    )


def _bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture
async def user(factory):
    org = await factory.make_org()
    return await factory.make_user(Role.clinician, organization_id=org.id, password=PASSWORD)


async def test_password_grant_gives_access_and_refresh_tokens(client, user):
    r = await _login(client, user.email.upper())  # emails are case-insensitive
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().access_token_minutes * 60
    assert body["refresh_token"]
    me = await client.get(f"{API}/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == user.id and "password" not in me.text


async def test_wrong_password_and_unknown_email_are_the_same_answer(client, user):
    bad = _problem(await _login(client, user.email, "wrong-password"), 400, "invalid-grant")
    unknown = _problem(await _login(client, "nobody@example.org"), 400, "invalid-grant")
    assert bad["detail"] == unknown["detail"]


async def test_unknown_email_still_costs_a_password_hash(client, user, monkeypatch):
    from app.auth import service
    from app.core import security

    calls: list[str | None] = []
    real = security.verify_password

    async def spy(password: str, hashed: str | None) -> bool:
        calls.append(hashed)
        return await real(password, hashed)

    monkeypatch.setattr(service, "verify_password", spy)
    hashed_calls: list[str] = []
    real_hasher = security._password_hasher()
    monkeypatch.setattr(security, "_password_hasher", lambda: _Counting(real_hasher, hashed_calls))
    _problem(await _login(client, "nobody@example.org"), 400)
    assert calls == [None]  # the service asked for a verification with no stored hash...
    assert hashed_calls == ["verify"]  # ...and argon2 really ran against the dummy hash
    await _login(client, user.email)
    assert calls[-1] and calls[-1].startswith("$argon2id$")


class _Counting:
    def __init__(self, inner, calls: list[str]) -> None:
        self.inner, self.calls = inner, calls

    def verify(self, password: str, hashed: str) -> bool:
        self.calls.append("verify")
        return bool(self.inner.verify(password, hashed))

    def hash(self, password: str) -> str:
        return str(self.inner.hash(password))


async def test_inactive_user_cannot_sign_in(client, factory):
    u = await factory.make_user(Role.specialist, password=PASSWORD, active=False)
    _problem(await _login(client, u.email), 400, "invalid-grant")


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(client, user):
    first = (await _login(client, user.email)).json()
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        await client.get(f"{API}/me", headers=_bearer(second["access_token"]))
    ).status_code == 200

    # The spent token comes back (a thief's copy): the whole family ends, the new one too.
    reuse = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    _problem(reuse, 400, "refresh-token-reused")
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
    )
    _problem(r, 400)

    # Another sign-in is another family and is unaffected.
    other = (await _login(client, user.email)).json()
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": other["refresh_token"]},
    )
    assert r.status_code == 200


async def test_refresh_needs_a_refresh_token(client, user):
    tokens = (await _login(client, user.email)).json()
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["access_token"]},
    )
    _problem(r, 400, "invalid-grant")
    r = await client.post(f"{API}/auth/token", data={"grant_type": "refresh_token"})
    assert _problem(r, 400, "invalid-request")["error"] == "invalid_request"


async def test_revoke_refresh_token_ends_its_family(client, user):
    tokens = (await _login(client, user.email)).json()
    r = await client.post(f"{API}/auth/revoke", data={"token": tokens["refresh_token"]})
    assert r.status_code == 200
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    _problem(r, 400)


async def test_revoke_access_token(client, user):
    tokens = (await _login(client, user.email)).json()
    h = _bearer(tokens["access_token"])
    assert (await client.get(f"{API}/me", headers=h)).status_code == 200
    r = await client.post(f"{API}/auth/revoke", data={"token": tokens["access_token"]})
    assert r.status_code == 200
    _problem(await client.get(f"{API}/me", headers=h), 401)
    # RFC 7009: an unknown or garbage token is not an error, and revoking twice is fine.
    assert (await client.post(f"{API}/auth/revoke", data={"token": "garbage"})).status_code == 200
    r = await client.post(f"{API}/auth/revoke", data={"token": tokens["access_token"]})
    assert r.status_code == 200


async def test_deactivation_ends_sessions(client, factory, user):
    admin = await factory.make_user(Role.admin)
    tokens = (await _login(client, user.email)).json()
    h = _bearer(tokens["access_token"])
    r = await client.patch(
        f"{API}/users/{user.id}", json={"active": False}, headers=factory.headers(admin)
    )
    assert r.status_code == 200, r.text
    _problem(await client.get(f"{API}/me", headers=h), 401)
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    _problem(r, 400)


@pytest.mark.parametrize("role", [Role.admin, Role.coordinator])
async def test_nobody_sets_another_users_password(client, factory, user, role):
    """Issue 16: a coordinator (or admin) could set anyone's password and sign in as them.
    Only the user sets theirs; staff deactivate instead."""
    staff = await factory.make_user(role)
    victim = await factory.make_user(Role.coordinator, password=PASSWORD)
    for target in (user, victim):
        r = await client.patch(
            f"{API}/users/{target.id}",
            json={"password": "taken-over-password"},
            headers=factory.headers(staff),
        )
        body = _problem(r, 422, "validation-error")
        assert body["errors"] == [
            {
                "pointer": "/password",
                "detail": "Extra inputs are not permitted",
                "code": "extra_forbidden",
            }
        ]
        _problem(await _login(client, target.email, "taken-over-password"), 400)
        assert (await _login(client, target.email)).status_code == 200


async def test_own_password_change_needs_the_current_one_and_ends_every_session(client, user):
    tokens = (await _login(client, user.email)).json()
    other = (await _login(client, user.email)).json()  # another device
    h = _bearer(tokens["access_token"])
    # Not through PATCH /users/{id} any more, even for oneself.
    r = await client.patch(
        f"{API}/users/{user.id}", json={"password": "my-new-password-2"}, headers=h
    )
    _problem(r, 422)
    r = await client.post(
        f"{API}/me/password",
        json={"current_password": "not-my-password", "new_password": "my-new-password-2"},
        headers=h,
    )
    _problem(r, 422, "wrong-password")
    r = await client.post(
        f"{API}/me/password",
        json={"current_password": PASSWORD, "new_password": "my-new-password-2"},
        headers=h,
    )
    assert r.status_code == 204, r.text
    _problem(await client.get(f"{API}/me", headers=h), 401)
    for t in (tokens, other):  # every refresh token of the user is revoked
        r = await client.post(
            f"{API}/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
        )
        _problem(r, 400)
    _problem(await _login(client, user.email), 400)
    fresh = await _login(client, user.email, "my-new-password-2")
    assert fresh.status_code == 200
    me = await client.get(f"{API}/me", headers=_bearer(fresh.json()["access_token"]))
    assert me.status_code == 200


# --- API clients ------------------------------------------------------------------------------


async def test_api_client_secret_shown_once_and_client_credentials(client, factory):
    admin = await factory.make_user(Role.admin)
    org = await factory.make_org()
    r = await client.post(
        f"{API}/api-clients",
        headers=factory.headers(admin),
        json={"name": "Partner EMR", "organization_id": org.id, "scopes": ["cases:read"]},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["client_secret"]
    listed = await client.get(f"{API}/api-clients", headers=factory.headers(admin))
    assert (
        secret not in listed.text and listed.json()["items"][0]["client_id"] == created["client_id"]
    )

    r = await client.post(
        f"{API}/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": secret,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "cases:read" and "refresh_token" not in body
    h = _bearer(body["access_token"])
    r = await client.get(f"{API}/organizations/{org.id}", headers=h)
    assert r.status_code == 200
    # Bound to one facility: another one does not exist for it.
    other = await factory.make_org()
    _problem(await client.get(f"{API}/organizations/{other.id}", headers=h), 404)

    _problem(
        await client.post(
            f"{API}/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": created["client_id"],
                "client_secret": "wrong",
            },
        ),
        401,
        "invalid-client",
    )
    _problem(
        await client.post(
            f"{API}/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": created["client_id"],
                "client_secret": secret,
                "scope": "cases:read webhooks:manage",
            },
        ),
        400,
        "invalid-scope",
    )


async def test_api_client_unknown_scope_refused(client, factory):
    admin = await factory.make_user(Role.admin)
    org = await factory.make_org()
    r = await client.post(
        f"{API}/api-clients",
        headers=factory.headers(admin),
        json={"name": "Partner", "organization_id": org.id, "scopes": ["everything"]},
    )
    _problem(r, 422)
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    r = await client.post(
        f"{API}/api-clients",
        headers=factory.headers(clinician),
        json={"name": "Partner", "organization_id": org.id, "scopes": ["cases:read"]},
    )
    _problem(r, 403)


async def test_scopes_are_enforced_per_route(client, factory):
    org = await factory.make_org()
    await factory.make_user(Role.clinician, organization_id=org.id)
    narrow = await factory.make_client(org.id, scopes=["rounds:read"])
    wide = await factory.make_client(org.id, scopes=["cases:read"])
    for path in (f"/organizations/{org.id}", "/organizations", "/users"):
        body = _problem(
            await client.get(API + path, headers=factory.headers(narrow)), 403, "insufficient-scope"
        )
        assert "cases:read" in body["detail"]
        assert (await client.get(API + path, headers=factory.headers(wide))).status_code == 200
    # A token asking for fewer scopes than the client holds gets only those.
    r = await client.post(
        f"{API}/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": wide.client_id,
            "client_secret": "cs_test-secret",
            "scope": "",
        },
    )
    assert r.status_code == 200 and r.json()["scope"] == "cases:read"


async def test_disabled_client_token_stops_working(client, factory, db):
    from app.auth.models import ApiClient

    org = await factory.make_org()
    c = await factory.make_client(org.id)
    h = factory.headers(c)
    assert (await client.get(f"{API}/organizations", headers=h)).status_code == 200
    row = await db.get(ApiClient, c.id)
    row.active = False
    await db.commit()
    _problem(await client.get(f"{API}/organizations", headers=h), 401)


# --- bad tokens -------------------------------------------------------------------------------


def _claims(user, **over) -> dict:
    s = get_settings()
    now = int(time.time())
    c = {
        "sub": user.id,
        "typ": "access",
        "iat": now,
        "exp": now + 600,
        "aud": s.jwt_audience,
        "iss": s.jwt_issuer,
        "jti": uuid.uuid4().hex,
        "tv": user.token_version,
        "role": user.role,
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def _sign(claims: dict, key: str | None = None) -> str:
    return jwt.encode(claims, key or get_settings().secret_key, algorithm=ALGORITHM)


def _unsigned(claims: dict) -> str:
    def b64(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


BAD_TOKENS = {
    "alg none": lambda u: _unsigned(_claims(u)),
    "alg none, signature kept": lambda u: _unsigned(_claims(u)) + _sign(_claims(u)).split(".")[2],
    "HS512": lambda u: jwt.encode(_claims(u), get_settings().secret_key, algorithm="HS512"),
    "no exp": lambda u: _sign(_claims(u, exp=None)),
    "no iat": lambda u: _sign(_claims(u, iat=None)),
    "no jti": lambda u: _sign(_claims(u, jti=None)),
    "no typ": lambda u: _sign(_claims(u, typ=None)),
    "no sub": lambda u: _sign(_claims(u, sub=None)),
    "wrong aud": lambda u: _sign(_claims(u, aud="someone-else")),
    "no aud": lambda u: _sign(_claims(u, aud=None)),
    "wrong iss": lambda u: _sign(_claims(u, iss="https://evil.example")),
    "no iss": lambda u: _sign(_claims(u, iss=None)),
    "refresh as access": lambda u: create_token(u.id, "refresh", timedelta(days=1), fam="fam_x")[0],
    "expired": lambda u: create_token(u.id, "access", timedelta(seconds=-120), tv=u.token_version)[
        0
    ],
    "other key": lambda u: _sign(_claims(u), key="another-secret-" + "y" * 32),
    "old token version": lambda u: _sign(_claims(u, tv=u.token_version - 1)),
    "unknown subject": lambda u: _sign(_claims(u, sub="usr_doesnotexist")),
    "garbage": lambda u: "not.a.jwt",
    "empty segments": lambda u: "..",
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
async def test_bad_tokens_are_401(client, user, name):
    token = BAD_TOKENS[name](user)
    r = await client.get(f"{API}/me", headers=_bearer(token))
    body = _problem(r, 401, "unauthorized")
    # RFC 6750 §3.1: a token was sent and refused.
    assert r.headers["www-authenticate"].startswith('Bearer realm="consult", error="invalid_token"')
    assert token not in body["detail"]


async def test_a_well_formed_token_passes(client, user):
    # The control for the table above: the same construction, nothing wrong with it.
    r = await client.get(f"{API}/me", headers=_bearer(_sign(_claims(user))))
    assert r.status_code == 200


async def test_no_token_and_wrong_scheme(client):
    _problem(await client.get(f"{API}/me"), 401)
    _problem(await client.get(f"{API}/me", headers={"Authorization": "Basic Zm9vOmJhcg=="}), 401)
