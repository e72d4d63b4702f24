"""On SQLite no COMMIT checkpoints the WAL (a checkpoint syncs the database file, and on the
request path it cost a third of an intake); `sqlite_checkpoints` does it on a thread beside
the app and the worker."""

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core import db
from app.core.db import checkpoint, get_engine, sqlite_checkpoints, sqlite_file, unit_of_work


def _checkpoint_now(path: str) -> tuple[int, int, int]:
    """A checkpoint that ran (the app's own checkpointer may hold the lock for a moment)."""
    for _ in range(100):
        found = checkpoint(path)
        if found[0] == 0:
            return found
    raise AssertionError("the WAL stayed busy")


def _sqlite_path(database_url: str) -> str:
    path = sqlite_file(database_url)
    if path is None:
        pytest.skip("SQLite only: PostgreSQL has no WAL file of ours to checkpoint")
    return path


async def test_a_commit_never_checkpoints(app, database_url):
    _sqlite_path(database_url)
    async with get_engine().connect() as conn:
        assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0


async def test_the_checkpointer_copies_what_the_app_committed(app, database_url, factory):
    path = _sqlite_path(database_url)
    _checkpoint_now(path)  # whatever earlier tests left
    org = await factory.make_org(name="Checkpointed clinic")
    _, in_wal, copied = _checkpoint_now(path)
    assert in_wal > 0 and copied == in_wal
    # Copied into the database file itself, not only in the WAL.
    assert b"Checkpointed clinic" in await asyncio.to_thread(Path(path).read_bytes)
    async with unit_of_work() as s:
        assert (
            await s.execute(text("SELECT name FROM organization WHERE id = :i"), {"i": org.id})
        ).scalar() == "Checkpointed clinic"


async def test_the_block_checkpoints_while_it_runs_and_once_at_its_end(
    app, database_url, factory, monkeypatch
):
    path = _sqlite_path(database_url)
    _checkpoint_now(path)
    passes: list[tuple[int, int, int]] = []

    def counted(p: str) -> tuple[int, int, int]:
        found = checkpoint(p)
        passes.append(found)
        return found

    monkeypatch.setattr(db, "checkpoint", counted)
    async with sqlite_checkpoints(database_url):
        await factory.make_org(name="Written inside the block")
    assert len(passes) >= 2  # the first pass at once, the last at the end
    assert b"Written inside the block" in await asyncio.to_thread(Path(path).read_bytes)


async def test_nothing_to_do_for_postgresql_or_memory():
    assert sqlite_file("postgresql+asyncpg://u@h/db") is None
    assert sqlite_file("sqlite+aiosqlite:///:memory:") is None
    async with sqlite_checkpoints("postgresql+asyncpg://u@h/db"):
        pass


def test_a_locked_checkpoint_is_reported_busy_not_raised(tmp_path):
    path = str(tmp_path / "x.db")
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (x)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM t").fetchall()  # holds a snapshot
    writer.execute("INSERT INTO t VALUES (2)")
    writer.commit()
    busy, in_wal, copied = checkpoint(path)
    assert busy == 0 and copied < in_wal  # PASSIVE: copies what it may, waits for nobody
    reader.rollback()
    busy, in_wal, copied = checkpoint(path)
    assert copied == in_wal
    reader.close()
    writer.close()
