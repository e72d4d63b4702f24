"""Async engine, the per-request session, and the pieces every table shares."""

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import from_json
from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, event, exc, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from app.core.clock import clock
from app.core.clock import utcnow as utcnow  # re-exported: many modules read it here
from app.core.sqlite import Checkpointer, checkpoint_beside, sqlite_engine
from app.core.sqlite import long_statements as long_statements  # re-exported

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
    # SQLite: the WAL's checkpoints, on a thread beside the event loop (app.core.sqlite).
    checkpointer: Checkpointer | None


_db: _Database | None = None


def quiet_data_loggers() -> None:
    """Statement parameters are patient data: keep the drivers' debug logs (which quote them)
    off even when the root logger is at DEBUG. hide_parameters below covers error messages."""
    for name in ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(name).setLevel(logging.WARNING)


def read_json(text: str | bytes) -> Any:
    """JSON columns as Python values: pydantic's parser, which the response's serialiser
    shares, reads a facility's small JSON 3-10 times faster than `json.loads` (0.06 against
    0.7 µs for `[]`), and a list of 50 facilities reads 100 of them."""
    return from_json(text)


def make_engine(url: str) -> AsyncEngine:
    quiet_data_loggers()
    if url.startswith("sqlite"):
        return sqlite_engine(url, json_deserializer=read_json)
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
    checkpointer = checkpoint_beside(engine, url) if engine.dialect.name == "sqlite" else None
    _db = _Database(engine, sessions, autocommit_sessions, checkpointer)
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
        if closing.checkpointer is not None:
            await asyncio.to_thread(closing.checkpointer.stop)


def unit_session(session: AsyncSession) -> UnitSession:
    """The unit of work's ORM session behind `session`. Every session the app makes is one
    (init_engine's makers); this is where that is checked, once, rather than branched on."""
    unit = session.sync_session
    if not isinstance(unit, UnitSession):
        raise TypeError("not a session of app.core.db's makers")
    return unit


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
    unit = unit_session(session)
    unit.opens_lane = True
    try:
        yield session
    except NotModified:
        await session.run_sync(_end, unit)
        raise
    except BaseException:
        try:
            await session.rollback()
        finally:
            await session.close()
        raise
    await session.run_sync(_end, unit)


def _end(_sync: Session, unit: UnitSession) -> None:
    """Commit what the unit of work did: through the session if the ORM took part (joined
    the lane, or opened the connection itself), else the lane alone (UnitSession)."""
    if unit.in_transaction() or unit.new or unit.dirty or unit.deleted:
        _commit_and_close(unit)
    elif unit._lane is not None:
        unit.finish_lane()
    # else: nothing was read or written; nothing to end, no connection to give back


async def flush_orm(session: AsyncSession) -> None:
    """Write what the caller changed through the ORM, as autoflush would, before a
    fast-lane statement (app.core.queries) reads or writes the same rows. With nothing to
    write it costs nothing: a flush is a hop to the greenlet even then."""
    orm = session.sync_session
    if orm.new or orm.dirty or orm.deleted:
        await session.flush()


# The same unit of work outside a request: a background job's pass, a socket's frame.
# `async with unit_of_work() as session:` commits when the block ends, rolls back on error.
unit_of_work = contextlib.asynccontextmanager(session_scope)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def take_turns(session: AsyncSession, key: int | str) -> None:
    """Until this transaction ends, the transactions that name the same key run one at a
    time (on PostgreSQL, an advisory lock held to the transaction's end; a text key is
    hashed by the server). On SQLite every transaction already holds the database's write
    lock from its BEGIN (IMMEDIATE), which orders them the same way."""
    if is_postgres(session):
        await session.execute(*_turn("pg_advisory_xact_lock", key))


async def turn_is_free(session: AsyncSession, key: int | str) -> bool:
    """`take_turns` without the wait: True, and the turn is this transaction's until it
    ends, when nobody holds it; False at once when somebody does. (SQLite: True.)
    The Idempotency-Key guard sends the same statement (`turn_sql`) on its fast lane
    (app.core.idempotency)."""
    if not is_postgres(session):
        return True
    return bool(await session.scalar(*_turn("pg_try_advisory_xact_lock", key)))


def turn_sql(function: str, *, text_key: bool) -> str:
    """A turn's statement, for one who sends it on the fast lane rather than through a
    session (the Idempotency-Key guard); `:k` is the key, a text one hashed by the server."""
    return f"SELECT {function}({'hashtext(:k)' if text_key else ':k'})"


def _turn(function: str, key: int | str) -> tuple[Any, dict[str, Any]]:
    return text(turn_sql(function, text_key=isinstance(key, str))), {"k": key}
