"""A route that reads runs in autocommit on PostgreSQL (app.core.routing.autocommit): its
statements go without BEGIN and COMMIT, two round trips of a simple read's four. Every
other route keeps its transaction, and a route that writes cannot be marked."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from app.core.db import get_engine
from app.core.principal import Role
from app.core.routing import autocommit, make_router
from tests.conftest import IS_PG
from tests.core.helpers import API, ORG


class Sent(list[str]):
    """The statements asyncpg sends on connections the test's own task checks out (the
    requests it makes in-process), from `start()` on; a background task's (the outbox
    relay's bookkeeping) are not counted."""

    task: "asyncio.Task[Any] | None" = None

    def start(self) -> None:
        self.clear()
        self.task = asyncio.current_task()

    def log(self, record: Any) -> None:
        self.append(record.query.strip().rstrip(";").upper())


@pytest.fixture
def sent() -> Iterator[Sent]:
    seen = Sent()

    def checkout(dbapi_conn: Any, _rec: Any, _proxy: Any) -> None:
        if seen.task is not None and asyncio.current_task() is seen.task:
            dbapi_conn.driver_connection.add_query_logger(seen.log)

    def checkin(dbapi_conn: Any, _rec: Any) -> None:
        if dbapi_conn is not None:
            dbapi_conn.driver_connection.remove_query_logger(seen.log)

    engine = get_engine().sync_engine
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


@pytest.mark.skipif(not IS_PG, reason="SQLite keeps its inline BEGIN IMMEDIATE: PostgreSQL only")
async def test_a_read_sends_no_begin_or_commit_and_a_write_does(client, factory, sent):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id, submitted_by_id=clinician.id)
    admin = factory.headers(await factory.make_user(Role.admin))
    who = factory.headers(clinician)

    sent.start()
    assert (await client.get(f"{API}/me", headers=who)).status_code == 200
    assert (await client.get(f"{API}/cases/{case.id}", headers=who)).status_code == 200
    await asyncio.sleep(0)  # asyncpg hands each logged statement over with call_soon
    assert sent, "nothing was seen: the check would prove nothing"
    assert not [q for q in sent if q.startswith(("BEGIN", "COMMIT", "ROLLBACK"))], sent
    # The case read's audit row is written all the same, committed as it ran.
    assert any("INSERT INTO AUDIT_ENTRY" in q for q in sent), [q[:60] for q in sent]

    sent.start()
    r = await client.post(f"{API}/organizations", json=ORG, headers=admin)
    assert r.status_code == 201, r.text
    await asyncio.sleep(0)
    assert sent[0].startswith("BEGIN") and sent[-1] == "COMMIT", sent


@pytest.mark.skipif(not IS_PG, reason="SQLite keeps its inline BEGIN IMMEDIATE: PostgreSQL only")
async def test_the_reads_that_write_nothing_send_no_transaction_either(client, factory, sent):
    """The directory, a user, notification preferences, webhooks and rounds: reads that
    write not even an audit row."""
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    partner = factory.headers(await factory.make_client(org.id))
    who = factory.headers(clinician)

    sent.start()
    for url, headers in (
        (f"{API}/specialists", who),
        (f"{API}/users/{clinician.id}", who),
        (f"{API}/me/notification-preferences", who),
        (f"{API}/webhooks", partner),
        (f"{API}/rounds", who),
    ):
        r = await client.get(url, headers=headers)
        assert r.status_code == 200, (url, r.text)
    await asyncio.sleep(0)
    assert sent, "nothing was seen: the check would prove nothing"
    assert not [q for q in sent if q.startswith(("BEGIN", "COMMIT", "ROLLBACK"))], sent


async def test_audit_rows_of_marked_reads_are_kept(client, factory, db):
    """On both databases: what a marked read writes (its audit row) is there afterwards."""
    from sqlalchemy import text

    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id, submitted_by_id=clinician.id)
    r = await client.get(f"{API}/cases/{case.id}", headers=factory.headers(clinician))
    assert r.status_code == 200
    rows = (
        await db.execute(
            text(
                "SELECT actor_id FROM audit_entry WHERE action = 'case.read' AND resource_id = :c"
            ),
            {"c": case.id},
        )
    ).all()
    assert [r[0] for r in rows] == [clinician.id]


def test_only_a_read_may_be_marked():
    router = make_router()

    @autocommit
    async def change() -> None:
        return None

    with pytest.raises(TypeError, match="only a read"):
        router.post("/things")(change)
    with pytest.raises(TypeError, match="async route"):
        autocommit(lambda: None)  # type: ignore[type-var]
