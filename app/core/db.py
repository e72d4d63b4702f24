"""Async engine, the per-request session, and the pieces every table shares."""

import contextlib
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite
from pydantic_core import from_json
from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, event, exc, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only
from sqlmodel import Field, SQLModel

from app.core.clock import clock
from app.core.clock import utcnow as utcnow  # re-exported: many modules read it here

# Constraint names must be the same on SQLite and PostgreSQL, or migrations drift.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


_last_id = [0, 0]  # (ms, random part) of this process's latest id


def new_id(prefix: str) -> str:
    """Opaque id that sorts by creation time (ms), so keyset pagination is cheap and stable.
    Within one millisecond a process counts up from the previous id's random part (as
    monotonic ULIDs do), so its ids also sort in the order they were made."""
    ms = int(clock.wall() * 1000)
    if ms <= _last_id[0]:
        ms, rnd = _last_id[0], _last_id[1] + 1
    else:
        rnd = secrets.randbits(47)  # headroom for counting up within the millisecond
    _last_id[0], _last_id[1] = ms, rnd
    return f"{prefix}_{ms:012x}{rnd:012x}"


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always hands back an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        # SQLite hands back the stored text. Parsed as UTC in one step it costs a fifth of
        # parsing it naive and then replacing the zone (0.17 against 0.82 µs), and a list
        # of 30 offers reads 120 timestamps (~8% of the request). Other text goes the
        # general way.
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        general = super().result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            try:
                return datetime.fromisoformat(value + "+00:00")
            except (TypeError, ValueError):
                return general(value) if general else value

        return process


def ts_field(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def json_field(default_factory: Any = list, **kw: Any) -> Any:
    return Field(default_factory=default_factory, sa_type=JSON, **kw)


class Timestamped(SQLModel):
    created_at: datetime = ts_field(default_factory=utcnow)
    updated_at: datetime = ts_field(default_factory=utcnow)


class UnitSession(Session):
    """The ORM session of a unit of work, which may find its connection already open.

    Most requests never use the ORM: the token check, their reads and writes, the audit and
    outbox rows all go through the fast lane (app.core.queries). Opening the connection
    through the session's transaction and committing through it cost ~45 µs a request
    in-process on SQLite (SessionTransaction bookkeeping, state changes, events), a tenth of
    `GET /me`. So the unit of work opens its connection itself when the fast lane goes
    first (`lane`), and the session joins that connection's transaction (get_bind,
    join_transaction_mode="control_fully") the moment anything needs the ORM: a query, a
    flush, a savepoint, an explicit commit or rollback. One connection, one transaction
    either way; `finish_lane` ends it when the ORM never joined."""

    _lane: Connection | None = None
    # Only the unit of work's session opens a lane (app.core.queries); a session made
    # elsewhere (a test's) reaches its connection through its own transaction, as usual.
    opens_lane = False

    def get_bind(self, mapper: Any = None, **kw: Any) -> Any:
        if self._lane is not None and kw.get("bind") is None:
            return self._lane
        return super().get_bind(mapper, **kw)

    def lane(self) -> Connection:
        """The unit of work's connection in a transaction (in a greenlet: it may connect)."""
        conn = self._lane
        if conn is None:
            bind = super().get_bind()
            assert isinstance(bind, Engine)
            conn = self._lane = bind.connect()
        if not conn.in_transaction():
            conn.begin()
        return conn

    def _join(self) -> None:
        # The session takes over the lane's transaction: it commits or rolls it back and
        # tells its listeners (the relay, the notifications sender, an upload's cleanup).
        lane = self._lane
        if lane is not None and lane.in_transaction():
            self.connection()  # joins it, or finds it joined already

    def begin_nested(self) -> SessionTransaction:
        # The SAVEPOINT is sent now, not when the ORM first needs the connection: fast-lane
        # statements inside the block must be inside the savepoint too.
        self._join()
        nested = super().begin_nested()
        self.connection()
        return nested

    def commit(self) -> None:
        self._join()
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        self._join()
        try:
            super().rollback()
        finally:
            self._release()

    def _release(self) -> None:
        # As the session gives its connection back when its transaction ends: an upload
        # commits before receiving its bytes so that SQLite's one connection is free meanwhile.
        lane, self._lane = self._lane, None
        if lane is not None:
            lane.close()

    def finish_lane(self) -> None:
        """Commit the lane's transaction when the ORM never joined it, and tell the session's
        after_commit listeners, as the session's own commit would have."""
        lane = self._lane
        try:
            if lane is not None and lane.in_transaction():
                lane.commit()
                self.dispatch.after_commit(self)
        finally:
            self._release()  # the session itself holds nothing: the ORM never took part

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()  # after a failed commit it rolls back; the pool gets it back


@dataclass(frozen=True)
class _Database:
    """The engine and its session makers, set and forgotten together."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Sessions whose statements each commit on their own (PostgreSQL; the same as
    # `sessions` on SQLite): the unit of work of a route that reads
    # (app.core.routing.autocommit).
    autocommit_sessions: async_sessionmaker[AsyncSession]


_db: _Database | None = None


def quiet_data_loggers() -> None:
    """Statement parameters are patient data: keep the drivers' debug logs (which quote them)
    off even when the root logger is at DEBUG. hide_parameters below covers error messages."""
    for name in ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(name).setLevel(logging.WARNING)


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
    the write lock nothing waits for another connection. (A COMMIT that reaches the WAL
    auto-checkpoint, every ~4 MB written, syncs the file on the loop: a few ms, rarely.)"""

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


def read_json(text: str | bytes) -> Any:
    """JSON columns as Python values: pydantic's parser, which the response's serialiser
    shares, reads a facility's small JSON 3-10 times faster than `json.loads` (0.06 against
    0.7 µs for `[]`), and a list of 50 facilities reads 100 of them."""
    return from_json(text)


def make_engine(url: str) -> AsyncEngine:
    quiet_data_loggers()
    if url.startswith("sqlite"):
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
            json_deserializer=read_json,
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
    # The pool closes an overflow connection as soon as it is returned, and opening one
    # (TCP, TLS attempt, a new server process) cost more than the requests it served:
    # under 16 concurrent requests plus the background jobs, a pool of 10 spent ~12% of
    # the app's CPU reconnecting (bench --profile). So most of the 30 are kept open.
    pool_size = int(os.environ.get("DB_POOL_SIZE", "20"))
    # A database that does not answer fails a new connection in seconds (asyncpg waits a
    # minute by default), so the request gets its 503 (app.core.errors) while it is away.
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        hide_parameters=True,
        json_deserializer=read_json,
        connect_args={"timeout": float(os.environ.get("DB_CONNECT_TIMEOUT", "5"))},
    )

    # Instead of pool_pre_ping, whose round trip on every checkout was a measured 7% of a
    # request's CPU (GET /me): a connection the server closed (restart, idle timeout) is
    # known closed to asyncpg once its socket reported EOF, so drop it at checkout and let
    # the pool hand out a fresh one. A connection that dies silently mid-flight still fails
    # its request once and is discarded by SQLAlchemy's disconnect handling.
    @event.listens_for(engine.sync_engine, "checkout")
    def _drop_closed(dbapi_conn: Any, _rec: Any, _proxy: Any) -> None:
        raw = getattr(dbapi_conn, "driver_connection", None)
        is_closed = getattr(raw, "is_closed", None)
        if is_closed is not None and is_closed():
            raise exc.DisconnectionError("connection closed by the server")

    return engine


def init_engine(url: str) -> AsyncEngine:
    global _db
    engine = make_engine(url)
    sessions = async_sessionmaker(
        engine,
        expire_on_commit=False,
        sync_session_class=UnitSession,
        join_transaction_mode="control_fully",
    )
    # A read on PostgreSQL needs no BEGIN and COMMIT of its own: under READ COMMITTED each
    # statement reads its own snapshot inside a transaction too. The pool is the same; the
    # asyncpg adapter switches a connection to autocommit and back without a round trip.
    # SQLite keeps its transaction: BEGIN IMMEDIATE runs inline and orders the process's
    # writers (make_engine).
    autocommit_sessions = (
        async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            sync_session_class=UnitSession,
            join_transaction_mode="control_fully",
        )
        if engine.dialect.name == "postgresql"
        else sessions
    )
    _db = _Database(engine, sessions, autocommit_sessions)
    return engine


def _current() -> _Database:
    assert _db is not None, "engine not initialised"
    return _db


def get_engine() -> AsyncEngine:
    return _current().engine


def sessionmaker() -> async_sessionmaker[AsyncSession]:
    return _current().sessions


async def dispose_engine() -> None:
    """Close the engine's connections. It is forgotten first: closing a connection is an
    await (aiosqlite's thread), and a task that opened a session on the engine meanwhile
    would queue on its emptied pool until the pool's timeout (30 s); it fails at once."""
    global _db
    closing, _db = _db, None
    if closing is not None:
        await closing.engine.dispose()


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()  # after a failed commit: rolls back and gives the connection back


async def session_scope(autocommit: bool = False) -> AsyncIterator[AsyncSession]:
    """One session per request: commit on success, roll back on error (services only flush).
    A 304 is a success told by an exception (app.core.conditional): what the read wrote,
    its audit row, is kept. Commit and close go to the greenlet together: each hop costs
    as much as a fast statement (app.core.queries). With `autocommit` (a route that reads,
    app.core.routing.autocommit) each statement commits as it runs on PostgreSQL."""
    from app.core.conditional import NotModified  # conditional needs FastAPI; db does not

    current = _current()
    session = current.autocommit_sessions() if autocommit else current.sessions()
    unit = session.sync_session
    assert isinstance(unit, UnitSession)
    unit.opens_lane = True
    try:
        yield session
    except NotModified:
        await session.run_sync(_end)
        raise
    except BaseException:
        try:
            await session.rollback()
        finally:
            await session.close()
        raise
    await session.run_sync(_end)


def _end(unit: Session) -> None:
    """Commit what the unit of work did: through the session if the ORM took part (joined
    the lane, or opened the connection itself), else the lane alone (UnitSession)."""
    assert isinstance(unit, UnitSession)
    if unit.in_transaction() or unit.new or unit.dirty or unit.deleted:
        _commit_and_close(unit)
    elif unit._lane is not None:
        unit.finish_lane()
    # else: nothing was read or written; nothing to end, no connection to give back


# The same unit of work outside a request: a background job's pass, a socket's frame.
# `async with unit_of_work() as session:` commits when the block ends, rolls back on error.
unit_of_work = contextlib.asynccontextmanager(session_scope)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"
