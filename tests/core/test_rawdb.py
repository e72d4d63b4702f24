"""app.core.rawdb: one statement text for both drivers, values stored as SQLAlchemy stores
them, and PostgreSQL's queued writes going out together."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core import rawdb
from app.core.clock import utcnow
from app.core.rawdb import Sql

times = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


def test_named_parameters_become_numbered_for_asyncpg():
    text = "SELECT :a, :b::text, x::VARCHAR FROM t WHERE y = :a AND z = 'it''s :q at 10:30'"
    sql = Sql(text)
    assert sql.names == ("a", "b")
    assert sql.pg == text.replace(":a", "$1").replace(":b", "$2")
    assert sql.sqlite == text


def test_insert_quotes_every_column():
    sql = Sql.insert("case", ["id", "key"], returning="id")
    assert sql.sqlite == 'INSERT INTO "case" ("id", "key") VALUES (:id, :key) RETURNING id'


@given(times)
def test_sqlite_text_is_sqlalchemys_and_reads_back(t):
    from sqlalchemy.dialects.sqlite.base import DATETIME

    class Sqlite(rawdb._Values):
        dialect = "sqlite"

    stored = Sqlite().ts(t)
    assert stored == DATETIME().bind_processor(None)(t.replace(tzinfo=None))
    assert rawdb.row_ts(stored) == t


async def test_rows_written_raw_read_back_through_the_orm(db):
    at = datetime(2026, 11, 21, 10, 0, 0, 120000, tzinfo=UTC)
    async with rawdb.transaction() as tx:
        await tx.write(
            Sql.insert("audit_entry", ["at", "actor_kind", "action", "resource_type", "outcome"]),
            {
                "at": tx.ts(at),
                "actor_kind": "user",
                "action": "raw.test",
                "resource_type": "x",
                "outcome": "allowed",
            },
        )
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "raw.test"))
    assert entry is not None and entry.at == at


async def test_queued_writes_return_their_values_and_a_read_sees_them(db):
    ids: list[int] = []
    insert = Sql.insert(
        "audit_entry", ["at", "actor_kind", "action", "resource_type", "outcome"], "id"
    )
    count = Sql("SELECT count(*) FROM audit_entry WHERE action = 'raw.queue'")
    async with rawdb.transaction() as tx:
        for _ in range(3):
            await tx.write(
                insert,
                {
                    "at": tx.ts(utcnow()),
                    "actor_kind": "user",
                    "action": "raw.queue",
                    "resource_type": "x",
                    "outcome": "allowed",
                },
                returned=ids.append,
            )
        # A read in the middle sends what waits first (inside a transaction on PostgreSQL).
        row = await tx.fetchrow(count)
        assert row is not None and row[0] == 3
        assert len(ids) == 3 and ids == sorted(ids)
    stored = (await db.scalars(select(AuditEntry.id).where(AuditEntry.action == "raw.queue"))).all()
    assert sorted(stored) == ids


async def test_an_exception_rolls_everything_back(db):
    insert = Sql.insert("audit_entry", ["at", "actor_kind", "action", "resource_type", "outcome"])
    try:
        async with rawdb.transaction() as tx:
            values = {
                "at": tx.ts(utcnow()),
                "actor_kind": "user",
                "action": "raw.rollback",
                "resource_type": "x",
                "outcome": "allowed",
            }
            await tx.write(insert, values)
            await tx.fetchrow(Sql("SELECT 1"))  # sent, within the transaction
            await tx.write(insert, values)
            raise RuntimeError("the route failed")
    except RuntimeError:
        pass
    found = (await db.scalars(select(AuditEntry).where(AuditEntry.action == "raw.rollback"))).all()
    assert found == []


async def test_several_reads_in_one_go_each_get_their_first_row_or_none(db, factory):
    """fetchrows: one round trip on PostgreSQL; parameters with the same name in two reads
    stay apart, a read that finds nothing gives None, and one that finds a row of NULLs
    still gives the row."""
    org = await factory.make_org(name="Facility A")
    other = await factory.make_org(name="Facility B")
    by_id = Sql("SELECT id, name FROM organization WHERE id = :id")
    nulls = Sql("SELECT NULL AS a, NULL AS b WHERE :x = 1")
    async with rawdb.transaction() as tx:
        rows = await tx.fetchrows(
            (by_id, {"id": other.id}),
            (by_id, {"id": "org_missing"}),
            (nulls, {"x": 1}),
            (by_id, {"id": org.id}),
        )
    assert [tuple(r) if r is not None else None for r in rows] == [
        (other.id, "Facility B"),
        None,
        (None, None),
        (org.id, "Facility A"),
    ]
