"""Plain SQL on the pooled driver connection: the hottest routes' way to the database.

Profiles of POST /cases and GET /cases (bench --profile) put most of a request in the ORM
session's per-statement machinery (greenlet hop, compile cache, result setup: 60-100 µs a
statement) and in building SQLAlchemy statements (~180 µs for the list's access rule).
`Sql` is a statement written once with `:name` parameters; `DriverDb` runs it on the raw
connection SQLAlchemy's pool hands out, so SQLite's one connection is still shared with
sessions and queued in the pool. `SessionDb` runs the same `Sql` inside an ORM session, so
a helper written against `Db` (the token check, the Idempotency-Key guard, the audit and
outbox inserts) serves the lean routes and every other route alike.

Values cross in the shapes SQLAlchemy's column types would use, so rows written either way
read back the same: timestamps are naive UTC text on SQLite (`2026-11-21 10:00:00.000000`)
and aware datetimes on PostgreSQL; JSON columns are written as text (read back as text on
SQLite, decoded by the connection's codec on PostgreSQL: `row_json` takes either).
"""

import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import greenlet_spawn

from app.core.db import get_engine

# A quoted literal (kept as it is), or a `:name` parameter (not `::type`).
_PARAM = re.compile(r"'(?:[^']|'')*'|(?<![:\w]):([A-Za-z_]\w*)")


class Sql:
    """One statement with `:name` parameters, prepared for each driver once."""

    __slots__ = ("sqlite", "pg", "names", "clause")

    def __init__(self, sql: str) -> None:
        self.sqlite = sql  # sqlite3 takes :name with a mapping as is
        names: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) is None:
                return m.group(0)
            if m.group(1) not in names:
                names.append(m.group(1))
            return f"${names.index(m.group(1)) + 1}"

        self.pg = _PARAM.sub(number, sql)
        self.names = tuple(names)
        self.clause: TextClause = text(sql)

    @classmethod
    def insert(cls, table: str, columns: Sequence[str], returning: str | None = None) -> "Sql":
        """INSERT of these columns, each from the parameter of the same name."""
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(f":{c}" for c in columns)
        tail = f" RETURNING {returning}" if returning else ""
        return cls(f'INSERT INTO "{table}" ({names}) VALUES ({values}){tail}')


_named: dict[str, Any] = {}


def named_dialect(name: str) -> Any:
    """A dialect that renders `:name` parameters, to turn a SQLAlchemy statement into `Sql`
    (compile once, run many times with new values)."""
    if name not in _named:
        from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
        from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

        cls: Any = SQLiteDialect_aiosqlite if name == "sqlite" else PGDialect_asyncpg
        _named[name] = cls(paramstyle="named")
    return _named[name]


def row_ts(value: Any) -> datetime | None:
    """A timestamp column as read back: aware UTC whichever driver returned it."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def row_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class Db(Protocol):
    dialect: str

    def ts(self, value: datetime | None) -> Any: ...

    def json(self, value: Any) -> str: ...

    async def fetchrow(
        self, sql: Sql, params: Mapping[str, Any] | None = None
    ) -> Sequence[Any] | None: ...

    async def fetch(self, sql: Sql, params: Mapping[str, Any] | None = None) -> list[Any]: ...

    async def execute(self, sql: Sql, params: Mapping[str, Any] | None = None) -> None: ...


class _Values:
    dialect: str

    def ts(self, value: datetime | None) -> Any:
        """A timestamp as the column stores it (UTCDateTime's rules)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        if self.dialect == "sqlite":
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    @staticmethod
    def json(value: Any) -> str:
        return json.dumps(value)


class SessionDb(_Values):
    """`Sql` inside an ORM session's transaction (the session commits it)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    async def fetchrow(
        self, sql: Sql, params: Mapping[str, Any] | None = None
    ) -> Sequence[Any] | None:
        return (await self.session.execute(sql.clause, params or {})).first()

    async def fetch(self, sql: Sql, params: Mapping[str, Any] | None = None) -> list[Any]:
        return list((await self.session.execute(sql.clause, params or {})).all())

    async def execute(self, sql: Sql, params: Mapping[str, Any] | None = None) -> None:
        await self.session.execute(sql.clause, params or {})


_DOLLAR = re.compile(r"\$(\d+)")
# Combined statements by what they combine (DriverDb.flush, fetchrows). The lean routes
# make a handful; the bound only guards against a caller that varies without end.
_combined: dict[Any, str] = {}


def _remember(key: Any, statement: str) -> str:
    if len(_combined) >= 512:
        _combined.clear()
    _combined[key] = statement
    return statement


class DriverDb(_Values):
    """`Sql` straight on the driver connection, in the transaction `transaction()` manages.

    SQLite: BEGIN IMMEDIATE up front and every statement inline (microseconds each).
    PostgreSQL, where each statement is a network round trip: writes made with `write`
    wait in a queue and go out together as one statement (each a data-modifying WITH
    part) when the route ends, so an intake is one round trip for its four inserts, and
    one statement needs no BEGIN/COMMIT of its own. A read, or a plain `execute`, while
    writes wait sends them first inside a BEGIN, so nothing is ever half-written."""

    def __init__(self, dialect: str, conn: Any) -> None:
        self.dialect = dialect
        self.conn = conn  # sqlite3.Connection, or asyncpg.Connection
        self.in_transaction = dialect == "sqlite"
        self._after: list[Callable[[], None]] = []
        self._queue: list[tuple[Sql, list[Any], Callable[[Any], None] | None]] = []
        self._final: list[tuple[str, list[Any]]] = []
        self._writes_closed = False
        self._session_locks = False

    def _pg_args(self, sql: Sql, params: Mapping[str, Any] | None) -> list[Any]:
        p = params or {}
        return [p[n] for n in sql.names]

    async def begin(self) -> None:
        """Open the transaction now (PostgreSQL): for a lock that lasts until it ends."""
        if not self.in_transaction:
            await self.conn.execute("BEGIN")
            self.in_transaction = True

    async def fetchrow(
        self, sql: Sql, params: Mapping[str, Any] | None = None
    ) -> Sequence[Any] | None:
        if self.dialect == "sqlite":
            # Inline on the loop: microseconds of work from the page cache (app.core.db).
            cur = self.conn.execute(sql.sqlite, params or {})
            row = cur.fetchone()
            cur.close()
            return row  # type: ignore[no-any-return]
        await self.flush()
        return await self.conn.fetchrow(sql.pg, *self._pg_args(sql, params))  # type: ignore[no-any-return]

    async def fetch(self, sql: Sql, params: Mapping[str, Any] | None = None) -> list[Any]:
        if self.dialect == "sqlite":
            return self.conn.execute(sql.sqlite, params or {}).fetchall()  # type: ignore[no-any-return]
        await self.flush()
        return await self.conn.fetch(sql.pg, *self._pg_args(sql, params))  # type: ignore[no-any-return]

    async def fetchrows(
        self, *reads: tuple[Sql, Mapping[str, Any] | None]
    ) -> list[Sequence[Any] | None]:
        """The first row of each of several independent reads (or None), on PostgreSQL in
        one round trip: each read becomes a LATERAL part of one SELECT."""
        if self.dialect == "sqlite" or len(reads) < 2:
            return [await self.fetchrow(sql, params) for sql, params in reads]
        await self.flush()
        key = tuple(sql.pg for sql, _ in reads)
        statement = _combined.get(key)
        if statement is None:
            parts: list[str] = []
            shift = 0
            for i, (sql, _) in enumerate(reads):
                # "_<i>": where read i's columns begin, and (NULL) that it found no row.
                parts.append(
                    f'LEFT JOIN LATERAL (SELECT true AS "_{i}", q.* '
                    f"FROM ({self._shift(sql.pg, shift)}) AS q LIMIT 1) AS r{i} ON true"
                )
                shift += len(sql.names)
            picks = ", ".join(f"r{i}.*" for i in range(len(reads)))
            statement = _remember(key, f"SELECT {picks} FROM (SELECT 1) AS one {' '.join(parts)}")
        args = [a for sql, params in reads for a in self._pg_args(sql, params)]
        row = await self.conn.fetchrow(statement, *args)
        keys = list(row.keys())
        starts = [keys.index(f"_{i}") for i in range(len(reads))] + [len(keys)]
        return [
            None if row[starts[i]] is None else tuple(row[starts[i] + 1 : starts[i + 1]])
            for i in range(len(reads))
        ]

    async def execute(self, sql: Sql, params: Mapping[str, Any] | None = None) -> None:
        if self.dialect == "sqlite":
            self.conn.execute(sql.sqlite, params or {}).close()
            return
        await self.flush()
        await self.conn.execute(sql.pg, *self._pg_args(sql, params))

    async def write(
        self,
        sql: Sql,
        params: Mapping[str, Any] | None = None,
        returned: Callable[[Any], None] | None = None,
    ) -> None:
        """An INSERT/UPDATE/DELETE whose effect nothing in this request reads back. With
        `returned`, the statement has `RETURNING` one column of one row, handed over when
        it has run (before COMMIT)."""
        if self.dialect == "sqlite":
            row = await self.fetchrow(sql, params)
            if returned is not None:
                assert row is not None
                returned(row[0])
            return
        if self._writes_closed:
            raise RuntimeError("the route's writes were already sent")
        self._queue.append((sql, self._pg_args(sql, params), returned))

    def finally_select(self, expression: str, *args: Any) -> None:
        """PostgreSQL: evaluate `expression` ($1.. for args) in the statement that sends the
        queued writes (releasing a session-level lock without a round trip of its own)."""
        self._final.append((expression, list(args)))

    def may_take_session_locks(self) -> None:
        """PostgreSQL: the next statement may take a session-level advisory lock. Should
        the route then fail, before or after the lock is known to be held (a driver error,
        a timeout), every such lock of the connection is released before it goes back to
        the pool: between requests a pooled connection holds none."""
        self._session_locks = True

    async def flush(self, *, last: bool = False) -> None:
        """Send the queued writes (PostgreSQL). Unless this is the route's `last` write,
        a transaction is opened first: more writes may follow and must not be separate."""
        if self.dialect == "sqlite" or not (self._queue or (last and self._final)):
            return
        if last:
            self._writes_closed = True
        elif not self.in_transaction:
            await self.begin()
        queue, self._queue = self._queue, []
        final = self._final if last else []
        # The statement's text depends only on which statements are queued: made once.
        key = (
            tuple((sql.pg, returned is not None) for sql, _, returned in queue),
            tuple((expression, len(values)) for expression, values in final),
        )
        statement = _combined.get(key)
        if statement is None:
            shift = 0
            parts: list[str] = []
            picks: list[str] = []
            for i, (sql, values, returned) in enumerate(queue):
                parts.append(f"w{i} AS ({self._shift(sql.pg, shift)})")
                shift += len(values)
                if returned is not None:
                    picks.append(f"(SELECT * FROM w{i})")
            for expression, values in final:
                picks.append(self._shift(expression, shift))
                shift += len(values)
            with_ = f"WITH {', '.join(parts)} " if parts else ""
            statement = _remember(key, f"{with_}SELECT {', '.join(picks) or '1'}")
        args = [a for _, values, _ in queue for a in values]
        args.extend(a for _, values in final for a in values)
        row = await self.conn.fetchrow(statement, *args)
        if last:
            self._final = []  # sent; on failure `transaction` still has them to undo
        at = 0
        for _sql, _values, returned in queue:
            if returned is not None:
                returned(row[at])
                at += 1

    @staticmethod
    def _shift(sql: str, by: int) -> str:
        return _DOLLAR.sub(lambda m: f"${int(m.group(1)) + by}", sql) if by else sql

    def after_commit(self, fn: Callable[[], None]) -> None:
        self._after.append(fn)


@contextlib.asynccontextmanager
async def transaction() -> AsyncIterator[DriverDb]:
    """Check out the pooled connection and run the route's writes as one transaction:
    committed on success, rolled back otherwise. (On PostgreSQL a read or plain `execute`
    made before any write runs on its own, outside it.) After-commit callbacks (the
    relay's wake-up) run once the commit has returned."""
    engine = get_engine()
    dialect = engine.dialect.name
    fairy = await engine.raw_connection()
    driver: Any = fairy.driver_connection
    conn = driver._connection if dialect == "sqlite" else driver
    healthy = False
    try:
        if dialect == "sqlite":
            # Through _SqliteConnection: inline unless another process holds the write lock.
            await driver._execute(conn.execute, "BEGIN IMMEDIATE")
        db = DriverDb(dialect, conn)
        try:
            yield db
            await db.flush(last=True)
        except BaseException as e:
            # Cancelled while a PostgreSQL statement was on the wire, the server may hold a
            # lock or a transaction for this connection that we never heard of: it is
            # closed below instead (SQLite's statements run inline, never half-answered).
            if dialect == "sqlite" or isinstance(e, Exception):
                await _abandon(db)
                healthy = True
            raise
        if db.in_transaction:
            await _end(dialect, conn, "COMMIT")
        healthy = True
    finally:
        if not healthy:
            # BEGIN, COMMIT or ROLLBACK failed, or see above: the state is unknown.
            await greenlet_spawn(fairy.invalidate)
        # The pool's return path may await the driver (reset); it runs in a greenlet.
        await greenlet_spawn(fairy.close)
    for fn in db._after:
        fn()


async def _abandon(db: DriverDb) -> None:
    if db.in_transaction:
        await _end(db.dialect, db.conn, "ROLLBACK")
    if db._session_locks:
        await db.conn.execute("SELECT pg_advisory_unlock_all()")
        return
    for expression, values in db._final:
        await db.conn.execute(f"SELECT {expression}", *values)


async def _end(dialect: str, conn: Any, verb: str) -> None:
    if dialect == "sqlite":
        conn.execute(verb)
    else:
        await conn.execute(verb)
