"""SQLite's one writer held by another process past the busy timeout: the request is told
to come back (503 with Retry-After), not that the server broke (500)."""

import sqlite3

import pytest
from sqlalchemy.engine import make_url

from app.core import sqlite
from app.core.principal import Role
from tests.conftest import IS_PG
from tests.realtime.support import API

pytestmark = pytest.mark.skipif(
    IS_PG, reason="SQLite's write lock (PostgreSQL: test_database_gone)"
)


async def test_fault_sqlite_write_lock_held_elsewhere_answers_503(
    client, factory, database_url, monkeypatch
):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id, submitted_by_id=clinician.id)
    monkeypatch.setattr(sqlite, "_BUSY_MS", 200)  # SQLite's patience, shortened for the test
    other = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, and not letting go
    try:
        r = await client.post(
            f"{API}/cases/{case.id}/messages",
            json={"body": "while locked", "client_msg_id": "l1"},
            headers=factory.headers(clinician),
        )
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert int(r.headers["retry-after"]) > 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    r = await client.post(
        f"{API}/cases/{case.id}/messages",
        json={"body": "after", "client_msg_id": "l2"},
        headers=factory.headers(clinician),
    )
    assert r.status_code == 201, r.text
