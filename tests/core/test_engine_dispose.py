"""Disposing the engine: nothing starts on it while its connections close."""

import asyncio

import pytest

from app.core import db


async def test_no_session_is_handed_out_while_the_engine_closes(app, tmp_path):
    saved = db._db
    try:
        db.init_engine(f"sqlite+aiosqlite:///{tmp_path / 'closing.db'}")
        async with db.unit_of_work() as s:  # its one pooled connection, idle afterwards
            await s.connection()
        closing = asyncio.create_task(db.dispose_engine())
        await asyncio.sleep(0)  # the dispose is under way: closing on aiosqlite's thread
        assert not closing.done()
        # A background task (the outbox relay's bookkeeping) asking now is refused at once,
        # instead of queueing on the emptied pool for its 30 s timeout.
        with pytest.raises(AssertionError, match="engine not initialised"):
            db.sessionmaker()
        await closing
    finally:
        db._db = saved
