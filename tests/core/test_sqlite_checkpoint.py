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
            assert (await s.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
            await s.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT)"))
        for i in range(60):  # ~1,500 pages, past SQLite's own checkpoint at 1,000
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
