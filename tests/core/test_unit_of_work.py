"""The unit of work's one transaction, whichever of the fast lane and the ORM goes first
(app.core.db.UnitSession): what one writes the other sees, they commit or roll back
together, the session's listeners hear the commit, and an explicit commit gives the
connection back."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, exc, func, select
from sqlalchemy.util import greenlet_spawn
from sqlmodel import col

from app.core.db import UnitSession, get_engine, unit_of_work, utcnow
from app.core.queries import Statement, queries
from app.organizations.models import Organization
from tests.conftest import IS_PG

_INSERT = Statement.insert(
    "organization",
    [
        "id",
        "name",
        "country",
        "timezone",
        "languages",
        "local_resources",
        "created_at",
        "updated_at",
    ],
)


async def _insert(session: Any, org_id: str) -> None:
    q = await queries(session)
    now = q.ts(utcnow())
    await q.execute(
        _INSERT,
        {
            "id": org_id,
            "name": org_id,
            "country": "KE",
            "timezone": "Africa/Nairobi",
            "languages": q.json([]),
            "local_resources": q.json({}),
            "created_at": now,
            "updated_at": now,
        },
    )


async def _names() -> set[str]:
    async with unit_of_work() as s:
        return set((await s.scalars(select(col(Organization.name)))).all())


class Boom(Exception):
    pass


async def test_the_orm_joins_the_fast_lanes_transaction_and_both_roll_back(app):
    with pytest.raises(Boom):
        async with unit_of_work() as s:
            await _insert(s, "org_lane")
            unit = s.sync_session
            assert isinstance(unit, UnitSession) and unit._lane is not None
            # The ORM sees the lane's uncommitted row: the same connection and transaction.
            assert (await s.connection()).sync_connection is unit._lane
            n = await s.scalar(select(func.count()).where(col(Organization.id) == "org_lane"))
            assert n == 1
            s.add(Organization(name="org_orm", country="KE", timezone="Africa/Nairobi"))
            await s.flush()
            raise Boom
    assert not {"org_lane", "org_orm"} & await _names()


async def test_the_fast_lane_alone_commits_and_the_sessions_listeners_hear_it(app):
    heard: list[str] = []
    async with unit_of_work() as s:
        event.listen(s.sync_session, "after_commit", lambda _s: heard.append("commit"))
        await _insert(s, "org_alone")
        assert not s.in_transaction()  # the ORM never took part
    assert heard == ["commit"]
    assert "org_alone" in await _names()


async def test_an_error_after_the_fast_lane_rolls_back_and_is_heard(app):
    heard: list[str] = []
    with pytest.raises(Boom):
        async with unit_of_work() as s:
            event.listen(
                s.sync_session, "after_soft_rollback", lambda _s, _prev: heard.append("rollback")
            )
            await _insert(s, "org_undone")
            raise Boom
    assert heard == ["rollback"]
    assert "org_undone" not in await _names()


async def test_an_explicit_commit_keeps_the_lanes_writes_and_frees_the_connection(app):
    async with unit_of_work() as s:
        await _insert(s, "org_first")
        await s.commit()
        # The connection is back in the pool (SQLite has one): another unit of work runs
        # now, not when this one ends, and it sees the committed row.
        assert "org_first" in await asyncio.wait_for(_names(), 5)
        await _insert(s, "org_second")  # a fresh transaction for the rest of the unit
    assert {"org_first", "org_second"} <= await _names()


async def test_an_explicit_rollback_undoes_the_lanes_writes(app):
    async with unit_of_work() as s:
        await _insert(s, "org_dropped")
        await s.rollback()
        await _insert(s, "org_kept")
    names = await _names()
    assert "org_kept" in names and "org_dropped" not in names


async def test_a_savepoint_after_the_fast_lane_is_inside_its_transaction(app):
    async with unit_of_work() as s:
        await _insert(s, "org_outer")
        try:
            async with s.begin_nested():
                await _insert(s, "org_inner")
                raise Boom
        except Boom:
            pass
    names = await _names()
    assert "org_outer" in names and "org_inner" not in names


async def test_a_failed_flush_after_the_fast_lane_rolls_back_with_its_own_error(app):
    with pytest.raises(exc.IntegrityError):
        async with unit_of_work() as s:
            await _insert(s, "org_twice")
            s.add(Organization(id="org_twice", name="x", country="KE", timezone="UTC"))
            await s.flush()  # the same id: the error the caller must see, not a later one
    assert "org_twice" not in await _names()


@pytest.mark.skipif(IS_PG, reason="SQLite's own reset of a pooled connection (make_engine)")
async def test_a_connection_given_back_in_a_transaction_is_rolled_back(app):
    now = utcnow().replace(tzinfo=None).isoformat(" ")

    def leave_open() -> None:
        raw = get_engine().sync_engine.raw_connection()
        cur = raw.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.execute(
            "INSERT INTO organization (id, name, country, timezone, languages,"
            " local_resources, created_at, updated_at)"
            " VALUES ('org_left', 'org_left', 'KE', 'UTC', '[]', '{}', ?, ?)",
            (now, now),
        )
        raw.close()  # back to the pool with the transaction open

    await greenlet_spawn(leave_open)
    # Rolled back on its way in: the next unit of work begins (BEGIN IMMEDIATE would fail
    # inside a transaction) and does not see the row.
    assert "org_left" not in await _names()
