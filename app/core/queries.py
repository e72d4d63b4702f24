"""Fast statements inside the unit of work: written once, run on the session's connection.

Profiles of the hottest routes (bench --profile, /tmp micro-benchmarks of the ASGI app) put
most of a request in the ORM session's per-statement machinery (greenlet hop, compile
cache, execution context, result setup: 60-100 µs a statement), while the statement
itself is microseconds of work on a local SQLite page cache or one round trip to
PostgreSQL. The statements every request runs (the token check, the audit row, the outbox
row, the Idempotency-Key record) and the hot reads run here instead.

`Statement` is SQL with `:name` parameters, or a SQLAlchemy Core statement, compiled by
SQLAlchemy once for each dialect (`$1` for asyncpg, `?` for sqlite3). `queries(session)`
hands out the driver connection under the request's ORM session: the same connection and
the same transaction, so ORM work and fast statements commit or roll back together, and
the session's after-commit hooks (the relay) hold for both. There is one unit of work;
this is only a cheaper way to send a statement through it.

Values cross in the shapes SQLAlchemy's column types would use, so rows written either way
read back the same: timestamps are naive UTC text on SQLite (`2026-11-21 10:00:00.000000`)
and aware datetimes on PostgreSQL (`Queries.ts`); JSON is written as text (`Queries.json`)
and read back with `row_json`.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ClauseElement, String, event, literal_column, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from app.core.db import read_json, unit_session


class Statement:
    """One statement, compiled by SQLAlchemy for each dialect the first time it runs there."""

    __slots__ = ("clause", "_compiled", "_readers")

    def __init__(self, sql: str | ClauseElement) -> None:
        self.clause: ClauseElement = text(sql) if isinstance(sql, str) else sql
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {}
        self._readers: dict[str, Callable[[Sequence[Any]], dict[str, Any]]] = {}

    @classmethod
    def insert(
        cls, table: str, columns: Sequence[str], returning: str | None = None
    ) -> "Statement":
        """INSERT of these columns, each from the parameter of the same name."""
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(f":{c}" for c in columns)
        tail = f" RETURNING {returning}" if returning else ""
        return cls(f'INSERT INTO "{table}" ({names}) VALUES ({values}){tail}')

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        """The dialect's SQL text, its parameters' names in order, and the values bound in
        the statement itself (a Core statement's literals)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            c = self.clause.compile(dialect=dialect)
            assert isinstance(c, SQLCompiler)  # a statement, not a DDL element
            found = (c.string, tuple(c.positiontup or ()), dict(c.params))
            self._compiled[dialect.name] = found
        return found


def fixed(value: StrEnum) -> Any:
    """One of our enums' values written into the statement's text instead of bound.

    SQLite re-prepares a statement on every run when a bound value is compared with a
    partial index's condition (offer's "one pending offer per specialist and case",
    `WHERE status = 'pending'`): binding it expires the plan. Measured on the bench's
    database: `offer.status = ?` 23 µs a statement against 5 µs written in, and a
    specialist's case read (three such terms) 71-97 µs against 7 µs. For equality with
    a column a partial index's condition names (`offer.status`); an IN list does not
    re-prepare. Only enum values, never input: they go into the SQL as they are."""
    text_value = str(value.value)
    if not _PLAIN.fullmatch(text_value):
        raise ValueError(f"not a plain enum value: {text_value!r}")
    return literal_column(f"'{text_value}'", String())


_PLAIN = re.compile(r"[a-z][a-z0-9_]*")
_named: dict[str, Dialect] = {}


def named_dialect(name: str) -> Dialect:
    """A dialect that renders `:name` parameters: to write a Core statement into a larger
    `text()` (which SQLAlchemy then compiles for the real dialect as any other)."""
    if name not in _named:
        # The base dialects: asyncpg's renders casts (`:x::VARCHAR`) that text() would not
        # read as parameters; the server infers the same types from the columns.
        from sqlalchemy.dialects.postgresql.base import PGDialect
        from sqlalchemy.dialects.sqlite.base import SQLiteDialect

        cls: Any = SQLiteDialect if name == "sqlite" else PGDialect
        _named[name] = cls(paramstyle="named")
    return _named[name]


def _reader(column_type: Any, dialect: Dialect) -> Any:
    try:
        return column_type.dialect_impl(dialect).result_processor(dialect, None)
    except TypeError:
        # asyncpg's numeric types want the column's type oid to pick a processor; the
        # driver already hands back Python numbers, so none is needed.
        return None


def readers(stmt: Statement, dialect: Dialect) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """A SELECT's row as a dict of typed values, as the ORM would have read it (SQLite's
    timestamp text to an aware datetime, JSON text to objects), by a function worked out
    once per statement and dialect.

    The function is written out for the statement's columns, as `namedtuple` writes its
    class: one dict display per row, each typed column's reader called by name. A list of
    50 facilities read its rows in 98 µs through a loop over the typed columns, in 61 µs
    so (its values' parsing alone is ~46 µs)."""
    found = stmt._readers.get(dialect.name)
    if found is None:
        columns = list(stmt.clause.selected_columns)  # type: ignore[attr-defined]
        procs = {f"p{i}": _reader(c.type, dialect) for i, c in enumerate(columns)}
        items = [
            f"{c.key!r}: row[{i}]"
            if procs[f"p{i}"] is None
            else f"{c.key!r}: None if row[{i}] is None else p{i}(row[{i}])"
            for i, c in enumerate(columns)
        ]
        params = "".join(f", p{i}=p{i}" for i in range(len(columns)) if procs[f"p{i}"])
        source = f"def row_dict(row{params}):\n    return {{{', '.join(items)}}}\n"
        scope = {k: v for k, v in procs.items() if v is not None}
        exec(source, scope)  # noqa: S102 - our own column keys and indices, no input
        found = stmt._readers[dialect.name] = scope["row_dict"]
    return found


def row_ts(value: Any) -> datetime | None:
    """A timestamp column as read back: aware UTC whichever driver returned it."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def row_json(value: Any) -> Any:
    return read_json(value) if isinstance(value, str) else value


class Queries:
    """`Statement`s on the driver connection of one session's transaction."""

    __slots__ = ("dialect", "_dialect", "_conn", "_sqlite", "_dbapi")

    def __init__(self, dialect: Dialect, connection: Any) -> None:
        self._dialect = dialect
        self.dialect: str = dialect.name
        self._sqlite = dialect.name == "sqlite"
        driver = connection.driver_connection
        # sqlite3's connection itself: its statements run inline on the loop, microseconds
        # of work from the page cache (app.core.sqlite._SqliteConnection); asyncpg's otherwise.
        self._conn = driver.inline() if self._sqlite else driver
        # PostgreSQL: SQLAlchemy's asyncpg adapter sends BEGIN lazily, before the first
        # statement that goes through it. Until one has, the first fast statement goes
        # through it too (the DBAPI cursor), so that nothing runs outside the transaction.
        # A connection in autocommit (a read's, app.core.routing.autocommit) has none.
        adapter = None if self._sqlite else connection.dbapi_connection
        self._dbapi: Any = None if adapter is None or adapter.autocommit else adapter

    def ts(self, value: datetime | None) -> Any:
        """A timestamp as the column stores it (UTCDateTime's rules)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        if self._sqlite:
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    @staticmethod
    def json(value: Any) -> str:
        return json.dumps(value)

    def _args(self, stmt: Statement, params: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        sql, names, bound = stmt.compiled(self._dialect)
        p = params or {}
        return sql, [p[n] if n in p else bound[n] for n in names]

    async def fetchrow(
        self, stmt: Statement, params: Mapping[str, Any] | None = None
    ) -> Sequence[Any] | None:
        sql, args = self._args(stmt, params)
        if self._sqlite:
            cur = self._conn.execute(sql, args)
            row = cur.fetchone()
            cur.close()
            return row  # type: ignore[no-any-return]
        if self._dbapi is not None:
            rows = await self._through_adapter(sql, args)
            return rows[0] if rows else None
        return await self._conn.fetchrow(sql, *args)  # type: ignore[no-any-return]

    async def fetch(self, stmt: Statement, params: Mapping[str, Any] | None = None) -> list[Any]:
        sql, args = self._args(stmt, params)
        if self._sqlite:
            return self._conn.execute(sql, args).fetchall()  # type: ignore[no-any-return]
        if self._dbapi is not None:
            return await self._through_adapter(sql, args)
        return await self._conn.fetch(sql, *args)  # type: ignore[no-any-return]

    async def fetch_dicts(
        self, stmt: Statement, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """A Core SELECT's rows as dicts of typed values, as the ORM would have read them."""
        row_dict = readers(stmt, self._dialect)
        return [row_dict(row) for row in await self.fetch(stmt, params)]

    async def execute(self, stmt: Statement, params: Mapping[str, Any] | None = None) -> None:
        sql, args = self._args(stmt, params)
        if self._sqlite:
            self._conn.execute(sql, args).close()
            return
        if self._dbapi is not None:
            await self._through_adapter(sql, args)
            return
        await self._conn.execute(sql, *args)

    async def _through_adapter(self, sql: str, args: list[Any]) -> list[Any]:
        """One statement through the DBAPI adapter: it begins the transaction first."""

        def run() -> list[Any]:
            cur = self._dbapi.cursor()
            try:
                cur.execute(sql, args)
                return list(cur.fetchall()) if cur.description else []
            finally:
                cur.close()

        rows = await greenlet_spawn(run)
        self._dbapi = None  # in the transaction now: straight to the driver from here on
        return rows


_KEY = "app.core.queries"


async def queries(session: AsyncSession) -> Queries:
    """The fast lane of this session's transaction (begun now if it was not yet)."""
    found: Queries | None = session.info.get(_KEY)
    if found is None:
        unit = unit_session(session)
        if unit.opens_lane and not unit.in_transaction():
            # The unit of work's own connection, which the ORM joins if it is needed later.
            conn = await greenlet_spawn(unit.lane)
        else:
            sync = (await session.connection()).sync_connection
            assert sync is not None
            conn = sync
        # Checked out and in a transaction already: no I/O to reach the driver's connection.
        found = session.info[_KEY] = Queries(conn.dialect, conn.connection)
    return found


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, transaction: SessionTransaction) -> None:
    # The connection goes back to the pool with the transaction; the next one may differ.
    if transaction.parent is None:
        session.info.pop(_KEY, None)
