"""On SQLite the WAL is checkpointed by a thread beside the event loop, never inside a
request's COMMIT (app.core.sqlite.Checkpointer)."""

import pytest
from sqlalchemy import text

from app.core import db, sqlite
from tests.conftest import IS_PG

pytestmark = pytest.mark.skipif(IS_PG, reason="SQLite's write-ahead log")


async def test_commits_leave_the_wal_to_the_checkpointer(app, tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY_S", 3600)  # passes only when asked
    saved = db._db
    try:
        db.init_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
        cp = db._current().checkpointer
        assert cp is not None and cp.running
        async with db.unit_of_work() as s:
            cap = (await s.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
            assert cap == sqlite.WAL_CAP_PAGES
            await s.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT)"))
        for i in range(60):  # ~1,500 pages: past SQLite's default 1,000, under the cap
            async with db.unit_of_work() as s:
                await s.execute(
                    text("INSERT INTO scratch (body) VALUES (:b)"), {"b": f"{i}" * 100_000}
                )
        assert cp.run_now()
        assert cp.last is not None
        busy, pages, done = cp.last
        # No commit checkpointed: the whole log was still there, and the pass moved all of it.
        assert busy == 0 and pages > 1000 and done == pages
        async with db.unit_of_work() as s:
            assert (await s.execute(text("SELECT count(*) FROM scratch"))).scalar() == 60
        await db.dispose_engine()
        assert not cp.running  # stopped with the engine
    finally:
        db._db = saved


async def test_the_writers_own_checkpoint_keeps_the_log_bounded(app, tmp_path, monkeypatch):
    """Writes back to back: the thread's passes never catch the log's end, so only the
    writer's own checkpoint past the cap lets the log start over."""
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY_S", 3600)
    monkeypatch.setattr(sqlite, "WAL_CAP_PAGES", 200)
    saved = db._db
    try:
        path = tmp_path / "cap.db"
        db.init_engine(f"sqlite+aiosqlite:///{path}")
        async with db.unit_of_work() as s:
            await s.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT)"))
        for i in range(100):  # ~2,500 pages in all
            async with db.unit_of_work() as s:
                await s.execute(
                    text("INSERT INTO scratch (body) VALUES (:b)"), {"b": f"{i}" * 100_000}
                )
        wal = path.with_name(path.name + "-wal").stat().st_size
        assert wal < 600 * 4096  # started over near the cap, not 2,500 pages long
        await db.dispose_engine()
    finally:
        db._db = saved
