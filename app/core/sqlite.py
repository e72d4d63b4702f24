"""SQLite as the embedded database: one connection whose statements run inline on the event
loop, BEGIN IMMEDIATE for every transaction, and the WAL checkpointed beside the loop."""

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import aiosqlite
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only


class _SqliteConnection(aiosqlite.Connection):
    """aiosqlite, but only a call that has to wait runs on its thread.

    Measured under wrk load (py-spy, bench --profile): each statement through aiosqlite is
    four round trips to its thread (cursor, execute, fetch, close), and each return trip
    needs the GIL back from a busy event loop (up to the 5 ms switch interval). With
    SQLite's one pooled connection those waits are every request's hold on the database,
    and they set the pace of every endpoint. A statement on a local WAL database is
    microseconds of work from the page cache, so calls run inline on the loop, with one
    exception: BEGIN IMMEDIATE, which waits (busy_timeout) while another process writes.
    It is tried inline with no busy wait first; only when the database is locked is it
    retried on the thread with the usual 30 s patience. Inside a transaction that holds
    the write lock nothing waits for another connection. (The WAL is checkpointed beside
    the loop, Checkpointer below; a COMMIT does it only past WAL_CAP_PAGES.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A process that exits without disposing the engine must not hang waiting for this
        # thread (errors raised inline can keep the connection in a reference cycle, so
        # aiosqlite's __del__ may not stop it in time); SQLite rolls back what was not
        # committed.
        self._thread.daemon = True

    async def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, inline unless another process holds the write lock (_execute)."""
        await self._execute(self.inline().execute, "BEGIN IMMEDIATE")

    def needs_rollback(self) -> bool:
        """In a transaction, or closed (a rollback then fails and the pool drops it)."""
        return self._connection is None or self._connection.in_transaction

    def inline(self) -> sqlite3.Connection:
        """The sqlite3 connection itself, for statements run inline (app.core.queries)."""
        assert self._connection is not None, "connection closed"
        return self._connection

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        conn = self._connection
        if conn is None or not self._running or _thread_only(fn) or _ON_THREAD.get():
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]  # aiosqlite leaves _execute unannotated
        if not _is_begin(fn, args):
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)  # busy_timeout is 0 outside _patiently
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
        return await super()._execute(_patiently, conn, fn, *args, **kwargs)  # type: ignore[no-untyped-call]


_ON_THREAD: ContextVar[bool] = ContextVar("sqlite_on_thread", default=False)


@contextlib.contextmanager
def long_statements() -> Iterator[None]:
    """Statements in this block may scan many rows (reports, ranking): on SQLite they go to
    aiosqlite's thread as usual, so the event loop keeps serving requests and sockets."""
    token = _ON_THREAD.set(True)
    try:
        yield
    finally:
        _ON_THREAD.reset(token)


def _patiently(conn: sqlite3.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """On aiosqlite's thread: wait up to _BUSY_MS for another process's write lock, trying
    every _BUSY_POLL_S. SQLite's own busy handler backs off to 100 ms between tries, so
    beside a process that writes back to back (the app under a stream of offers, with a
    standalone worker beside it) the waiting one found the lock free too rarely and waited
    seconds; short, even tries take it in the first gap."""
    deadline = time.monotonic() + _BUSY_MS / 1000
    while True:
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as e:
            if ("locked" not in str(e) and "busy" not in str(e)) or time.monotonic() > deadline:
                raise
        time.sleep(_BUSY_POLL_S)


_BUSY_MS = 30000
_BUSY_POLL_S = 0.001


def _thread_only(fn: Any) -> bool:
    """Closing the connection (not a cursor), backups, scripts: may wait or run long."""
    return isinstance(getattr(fn, "__self__", None), sqlite3.Connection) and getattr(
        fn, "__name__", ""
    ) in ("close", "backup", "executescript", "iterdump")


def _is_begin(fn: Any, args: tuple[Any, ...]) -> bool:
    return (
        getattr(fn, "__name__", "") == "execute"
        and bool(args)
        and isinstance(args[0], str)
        and args[0].lstrip()[:5].upper() == "BEGIN"
    )


def _sqlite_connector(url: str) -> Any:
    path = make_url(url).database or ":memory:"

    async def connect() -> aiosqlite.Connection:
        def open_db() -> sqlite3.Connection:
            # Used from the loop's thread and aiosqlite's, never at once (calls are awaited
            # one by one on the one connection).
            return sqlite3.connect(path, timeout=30, check_same_thread=False)

        return await _SqliteConnection(open_db, 64)

    return connect


def sqlite_engine(url: str, json_deserializer: Any) -> AsyncEngine:
    # Every transaction takes SQLite's write lock up front (BEGIN IMMEDIATE below), so in
    # one process they run one at a time anyway. One pooled connection makes them queue
    # in the pool (handed over at once) instead of in SQLite's busy handler, which polls
    # with sleeps of up to 100 ms: same safety, a fraction of the latency.
    engine = create_async_engine(
        url,
        async_creator=_sqlite_connector(url),
        pool_size=1,
        max_overflow=0,
        pool_timeout=30,
        pool_reset_on_return=None,  # _sqlite_reset below
        hide_parameters=True,
        json_deserializer=json_deserializer,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
        # Let BEGIN IMMEDIATE below take the write lock up front: two deferred
        # transactions upgrading to writers at once would fail with SQLITE_BUSY.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        # No busy wait from here on: BEGIN IMMEDIATE is tried at once on the loop and
        # retried on aiosqlite's thread with a 30 s wait only when another process
        # writes (_SqliteConnection). The pragmas above still wait (connect's timeout).
        cur.execute("PRAGMA busy_timeout=0")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # Straight to the driver (inline unless another process holds the write lock):
        # through exec_driver_sql it cost as much as the request's own statements.
        await_only(conn.connection.driver_connection.begin_immediate())

    @event.listens_for(engine.sync_engine, "reset")
    def _sqlite_reset(dbapi_conn: Any, _rec: Any, state: Any) -> None:
        # The pool's own reset (off: pool_reset_on_return=None) rolled back every
        # connection given back, after a commit too, and each was a trip through the
        # adapter. Only one still in a transaction (a unit of work that failed) needs it.
        if state.asyncio_safe and dbapi_conn.driver_connection.needs_rollback():
            dbapi_conn.rollback()

    return engine


# How often the WAL is moved into the database file. SQLite's own checkpoint ran inside
# whichever COMMIT took the WAL past 1,000 pages, on the event loop: in-process under
# intake those commits took ~3 ms (p99 of all commits; median 30 µs) and were half of all
# commit time, every request in the process waiting behind them.
CHECKPOINT_EVERY_S = 0.05
# SQLite's own checkpoint stays on, past 4,000 pages (16 MB), as the valve that keeps the
# WAL bounded: under writes back to back the thread's passes finish but never catch the
# log's end, and only a checkpoint by the writer itself lets the next write start the log
# over (a toy writer back to back grew it by ~400 MB a second without the valve; with it,
# 26 MB). By then the thread has copied nearly every page, so the writer's pass is short.
WAL_CAP_PAGES = 4000


class Checkpointer:
    """A thread with its own connection that checkpoints the WAL every CHECKPOINT_EVERY_S
    (PASSIVE: it neither waits for nor blocks a writer), while the app's connection
    checkpoints only past WAL_CAP_PAGES. sqlite3 lets go of the GIL while it copies pages,
    so the work leaves the event loop's core."""

    def __init__(self, engine: AsyncEngine, path: str) -> None:
        @event.listens_for(engine.sync_engine, "connect")
        def _checkpoint_in_commits_only_past_the_cap(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CAP_PAGES}")
            cur.close()

        self._path = path
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._done = threading.Event()
        # The last pass's (busy, WAL pages, pages checkpointed), as SQLite reports them.
        self.last: tuple[int, int, int] | None = None
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait(CHECKPOINT_EVERY_S)
                self._wake.clear()
                if self._stop.is_set():
                    return
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, timeout=0, isolation_level=None)
                    row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.last = (int(row[0]), int(row[1]), int(row[2]))
                except sqlite3.Error:
                    pass  # another process is checkpointing, or the file is gone: next time
                self._done.set()
        finally:
            if conn is not None:
                conn.close()

    def run_now(self, timeout: float = 10) -> bool:
        """One pass at once (tests; the thread keeps its own pace otherwise)."""
        self._done.clear()
        self._wake.set()
        return self._done.wait(timeout)

    def stop(self) -> None:
        """Stop, and wait for the pass under way (milliseconds) to end."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


def checkpoint_beside(engine: AsyncEngine, url: str) -> Checkpointer | None:
    """A Checkpointer for a database file (an in-memory one has no WAL)."""
    path = make_url(url).database
    if not path or path == ":memory:":
        return None
    return Checkpointer(engine, path)
