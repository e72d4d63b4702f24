"""On SQLite, short statements run inline on the loop; long ones (reports, ranking) are
sent to aiosqlite's thread so the loop keeps serving meanwhile."""

import aiosqlite
import pytest
from sqlalchemy import text

from app.core.db import get_engine, long_statements, sessionmaker


async def test_long_statements_go_to_the_thread(app, monkeypatch):
    if get_engine().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    on_thread: list[str] = []
    original = aiosqlite.Connection._execute

    async def spy(self, fn, *args, **kwargs):
        on_thread.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", spy)
    async with sessionmaker()() as s:
        await s.execute(text("SELECT 1"))
        inline = list(on_thread)
        with long_statements():
            assert (await s.execute(text("SELECT 41 + 1"))).scalar() == 42
        await s.rollback()
    assert "execute" not in inline
    assert "execute" in on_thread[len(inline) :]
