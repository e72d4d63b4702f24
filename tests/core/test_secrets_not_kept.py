"""The idempotency store never holds a secret (issue 16).

The attack: whoever can read the database (a backup, a read replica, an injected query)
reads `idempotency_record` for the answers kept there. Token answers, API client secrets,
webhook signing secrets and calendar feed tokens must not be among them, and a kept
fingerprint must not let them guess a password that was in a request body.
"""

import hashlib

from sqlalchemy import func, select

from app.auth.models import ApiClient
from app.core.idempotency_models import IdempotencyRecord
from app.core.principal import Role
from tests.core.helpers import API, assert_problem

PASSWORD = "correct-horse-battery"


async def _stored(db) -> list[tuple[str, str, str]]:
    """What a reader of the database finds: each kept answer's body, headers and
    fingerprint (the read ends at once, so the app's requests are not kept waiting for
    SQLite's one connection)."""
    r = IdempotencyRecord
    rows = (await db.execute(select(r.body, r.headers, r.fingerprint))).all()
    await db.rollback()
    return [(body, repr(headers), fingerprint) for body, headers, fingerprint in rows]


async def _assert_nowhere_in_store(db, *secrets: str) -> None:
    for row in await _stored(db):
        for secret in secrets:
            assert secret not in "".join(row), (secret, row)


async def test_the_token_endpoint_is_never_kept(client, factory, db):
    org = await factory.make_org()
    user = await factory.make_user(Role.coordinator, password=PASSWORD)
    partner = await factory.make_client(org.id, secret="cs_a-partner-secret")
    grants = [
        {"grant_type": "password", "username": user.email, "password": PASSWORD},
        {
            "grant_type": "client_credentials",
            "client_id": partner.client_id,
            "client_secret": "cs_a-partner-secret",
        },
    ]
    tokens: list[str] = []
    for i, form in enumerate(grants):
        key = {"Idempotency-Key": f"sign-in-{i}"}
        first = await client.post(f"{API}/auth/token", data=form, headers=key)
        again = await client.post(f"{API}/auth/token", data=form, headers=key)
        assert first.status_code == again.status_code == 200, (first.text, again.text)
        # A retry is a new sign-in, not a replay of the tokens.
        assert "idempotent-replayed" not in again.headers
        assert first.json()["access_token"] != again.json()["access_token"]
        tokens += [v for r in (first, again) for k, v in r.json().items() if k.endswith("token")]
    refresh = next(t for t in tokens if t.count(".") == 2 and t != tokens[0])
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        headers={"Idempotency-Key": "refresh-1"},
    )
    assert r.status_code in (200, 400), r.text
    assert await _stored(db) == []
    await _assert_nowhere_in_store(db, PASSWORD, "cs_a-partner-secret", *tokens)


async def test_a_token_request_carrying_a_bearer_keeps_no_token(client, factory, db):
    """Even signed in (the key then belongs to the caller), the tokens are not stored."""
    user = await factory.make_user(Role.coordinator, password=PASSWORD)
    h = {**factory.headers(user), "Idempotency-Key": "with-bearer"}
    form = {"grant_type": "password", "username": user.email, "password": PASSWORD}
    first = await client.post(f"{API}/auth/token", data=form, headers=h)
    assert first.status_code == 200, first.text
    again = await client.post(f"{API}/auth/token", data=form, headers=h)
    assert_problem(again, 409, "idempotent-secret-withheld")
    body = first.json()
    await _assert_nowhere_in_store(db, PASSWORD, body["access_token"], body["refresh_token"])


async def test_a_new_api_client_secret_is_not_kept(client, factory, db):
    org = await factory.make_org()
    admin = await factory.make_user(Role.admin)
    h = {**factory.headers(admin), "Idempotency-Key": "new-partner"}
    body = {"name": "Partner EMR", "organization_id": org.id, "scopes": ["cases:read"]}
    first = await client.post(f"{API}/api-clients", json=body, headers=h)
    assert first.status_code == 201, first.text
    created = first.json()
    await _assert_nowhere_in_store(db, created["client_secret"])
    assert len(await _stored(db)) == 1  # the key is remembered, without the secret

    # The retry learns the work was done, and which client it made, but not the secret;
    # no second client is registered.
    again = await client.post(f"{API}/api-clients", json=body, headers=h)
    problem = assert_problem(again, 409, "idempotent-secret-withheld")
    assert again.headers["idempotent-replayed"] == "true"
    assert problem["id"] == created["id"]
    assert "client_secret" in problem["detail"]
    assert created["client_secret"] not in again.text
    assert await db.scalar(select(func.count()).select_from(ApiClient)) == 1
    await db.rollback()

    # The secret that was shown once still works.
    r = await client.post(
        f"{API}/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )
    assert r.status_code == 200, r.text


async def test_webhook_and_calendar_secrets_are_not_kept(client, factory, db):
    org = await factory.make_org()
    partner = await factory.make_client(org.id)
    h = factory.headers(partner)
    sub = {"url": "https://partner.example.org/hook", "events": ["case.assigned"]}
    made = await client.post(f"{API}/webhooks", json=sub, headers={**h, "Idempotency-Key": "hook"})
    assert made.status_code == 201, made.text
    rotated = await client.post(
        f"{API}/webhooks/{made.json()['id']}/rotate-secret",
        headers={**h, "Idempotency-Key": "rotate"},
    )
    assert rotated.status_code == 200, rotated.text
    user = await factory.make_user(Role.specialist)
    feed = await client.post(
        f"{API}/me/calendar-token",
        headers={**factory.headers(user), "Idempotency-Key": "feed"},
    )
    assert feed.status_code == 201, feed.text
    secrets = [made.json()["secret"], rotated.json()["secret"], feed.json()["feed_token"]]
    assert len(await _stored(db)) == 3
    await _assert_nowhere_in_store(db, *secrets)


async def test_a_kept_fingerprint_does_not_give_away_a_password(client, factory, db):
    """POST /users carries a password: the stored fingerprint of that request cannot be
    recomputed from a guessed body without the server's secret key."""
    admin = await factory.make_user(Role.admin)
    body = {
        "email": "new.coordinator@example.org",
        "name": "New Coordinator",
        "role": "coordinator",
        "password": PASSWORD,
    }
    h = {**factory.headers(admin), "Idempotency-Key": "new-user"}
    r = await client.post(f"{API}/users", json=body, headers=h)
    assert r.status_code == 201, r.text
    ((kept_body, _, fingerprint),) = await _stored(db)
    assert PASSWORD not in kept_body
    sent = r.request.content
    guess = hashlib.sha256(f"POST {API}/users?\n".encode() + sent).hexdigest()
    assert fingerprint != guess
