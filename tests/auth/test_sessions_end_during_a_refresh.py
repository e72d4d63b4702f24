"""A session ended while one of its refreshes or a sign-in is under way stays ended: the
clinician whose phone was stolen revokes its session, or sets a new password, at the moment
the thief's copy refreshes or signs in with the old password. Before, on PostgreSQL the new
token was inserted after the revocation had chosen its rows, and the copy lived on.
Holding her row for that must not hold up rows that only refer to her (a case she is
added to, an offer she accepts)."""

import asyncio

import pytest
from sqlalchemy import text

from app.auth import service as auth
from app.auth import sessions
from app.core.db import sessionmaker
from app.core.principal import Role
from tests.conftest import IS_PG

API = "/api/v1"
PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.skipif(
    not IS_PG, reason="SQLite runs one writer at a time: no refresh is ever under way beside it"
)


@pytest.fixture
async def user(factory):
    org = await factory.make_org()
    return await factory.make_user(Role.clinician, organization_id=org.id, password=PASSWORD)


async def _tokens(client, user) -> dict[str, str]:
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": user.email, "password": PASSWORD},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _waiting_for_a_lock() -> int:
    async with sessionmaker()() as s:
        return int(
            await s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


async def _until_a_statement_waits_for_a_lock() -> None:
    """Until another transaction on this database waits for a row lock (the request sent
    beside the refresh has reached it). Asked of the server, not timed."""
    for _ in range(5000):
        if await _waiting_for_a_lock():
            return
        await asyncio.sleep(0)
    raise AssertionError("the second request never waited for the refresh")


async def _ended_beside_a_refresh(client, user, end) -> int:
    """Refresh the first session's token in a transaction held open, send `end` meanwhile,
    then commit the refresh; the status of a refresh with the token it issued."""
    tokens = await _tokens(client, user)
    refreshing = sessionmaker()()
    issued = await auth.refresh_grant(refreshing, tokens["refresh_token"])
    ending = asyncio.create_task(end(tokens))
    await _until_a_statement_waits_for_a_lock()
    await refreshing.commit()
    await refreshing.close()
    r = await ending
    assert r.status_code in (200, 204), r.text
    r = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
    )
    return r.status_code


async def test_a_revocation_during_a_refresh(client, user):
    """The session revoked (its refresh token): the refresh under way does not renew it."""

    async def sign_out(tokens):
        return await client.post(f"{API}/auth/revoke", data={"token": tokens["refresh_token"]})

    assert await _ended_beside_a_refresh(client, user, sign_out) == 400


async def test_a_new_password_during_a_refresh(client, user):
    async def new_password(tokens):
        return await client.post(
            f"{API}/me/password",
            json={"current_password": PASSWORD, "new_password": "a-new-long-password-9"},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )

    assert await _ended_beside_a_refresh(client, user, new_password) == 400


async def test_a_sign_in_with_the_old_password_during_a_password_change(client, user):
    """The new password is being set (her row held, not yet committed) while the old one is
    tried: once the change commits, the sign-in is refused, not a session of its own."""
    from app.auth.models import User

    changing = sessionmaker()()
    row = await changing.get(User, user.id)
    await auth.set_password(changing, row, "a-new-long-password-9")
    signing_in = asyncio.create_task(
        client.post(
            f"{API}/auth/token",
            data={"grant_type": "password", "username": user.email, "password": PASSWORD},
        )
    )
    await _until_a_statement_waits_for_a_lock()
    await changing.commit()
    await changing.close()
    r = await signing_in
    assert r.status_code == 400, r.text
    assert r.json()["type"].endswith("/invalid-grant")


async def test_her_sessions_ending_does_not_hold_up_rows_that_refer_to_her(client, factory):
    """While her sessions are being ended (her row held), she is added to a case: the insert
    goes through at once. Held FOR UPDATE, her row made it wait, and a deactivation that
    then locked her cases waited on it in turn (a deadlock PostgreSQL resolves by failing
    one)."""
    from tests.notes.helpers import note_world

    w = await note_world(factory)
    interpreter = await factory.make_user(Role.interpreter)
    ending = sessionmaker()()
    await sessions.hold_user(ending, interpreter.id)
    adding = asyncio.create_task(
        client.post(
            f"{API}/cases/{w.case.id}/participants",
            json={"user_id": interpreter.id, "role": "interpreter"},
            headers=factory.headers(w.clinician),
        )
    )
    try:
        for _ in range(5000):
            if adding.done():
                break
            assert not await _waiting_for_a_lock(), "adding her waited for her row"
            await asyncio.sleep(0)
        r = await adding
        assert r.status_code == 201, r.text
    finally:
        if not adding.done():
            await ending.rollback()
            await adding
        await ending.rollback()
        await ending.close()
