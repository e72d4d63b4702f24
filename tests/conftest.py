"""Test set-up: one database per run (a SQLite file, or a fresh PostgreSQL database that is
dropped afterwards), migrated with Alembic, emptied between tests."""

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="consult-tests-"))
# The SQLite database and uploads of this process (each xdist worker, and the controller):
# gone when it exits, as the PostgreSQL database is dropped.
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
BASE_URL = os.environ.get("DATABASE_URL", "")
IS_PG = BASE_URL.startswith("postgresql")
_PG_DB = f"test_consult_{os.getpid()}_{secrets.token_hex(3)}"

if IS_PG:
    TEST_URL = BASE_URL.rsplit("/", 1)[0] + "/" + _PG_DB
else:
    TEST_URL = f"sqlite+aiosqlite:///{_TMP / 'test.db'}"

os.environ.update(
    {
        "ENVIRONMENT": "test",
        "DATABASE_URL": TEST_URL,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8192",
        "RUN_WORKER": "false",
        "DEMO_DATA": "false",
        "DATA_DIR": str(_TMP / "data"),
        "WEBHOOK_ALLOW_PRIVATE": "true",
        # The general rate limit stays on (its fields are on every answer) but far above
        # what any test, schemathesis included, sends; tests/core/test_rate_limit.py
        # lowers it where it is the subject.
        "RATE_LIMIT_REQUESTS": "1000000",
    }
)
# pytest-xdist runs several workers at once (`make test`): each has its own database (the
# names above carry the pid), and on a shared Redis its own key space and live channel.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
os.environ["WS_CHANNEL"] = f"consult:test:{_WORKER}:{os.getpid()}"
if os.environ.get("REDIS_URL"):
    _redis = urlsplit(os.environ["REDIS_URL"])
    _db = 1 + int(_WORKER.removeprefix("gw") or 0) % 15
    os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{_db}"))
os.environ.pop("BOOTSTRAP_ADMIN_EMAIL", None)
os.environ.pop("BOOTSTRAP_ADMIN_PASSWORD", None)


def _pg_admin_url() -> str:
    # asyncpg wants a plain postgresql:// URL to the server's maintenance database.
    plain = BASE_URL.replace("postgresql+asyncpg://", "postgresql://")
    return plain.rsplit("/", 1)[0] + "/postgres"


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url())
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _migrate(url: str) -> None:
    from alembic import command
    from app.core.migrations import alembic_config

    cfg = alembic_config(url)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, "head")


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    """The programme's clock, at T0 and ticking (tests/timing.py)."""
    from app.core.clock import clock as the_clock
    from tests.timing import T0

    the_clock.set(T0)
    yield the_clock
    the_clock.run()


@pytest.fixture(scope="session")
def database_url() -> str:
    return TEST_URL


@pytest.fixture(scope="session", autouse=True)
async def _database() -> AsyncIterator[None]:
    if IS_PG:
        await _pg(f'CREATE DATABASE "{_PG_DB}"')
    await asyncio.to_thread(_migrate, TEST_URL)
    yield
    if IS_PG:
        from app.core.db import dispose_engine

        await dispose_engine()
        await _pg(f'DROP DATABASE IF EXISTS "{_PG_DB}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def app(_database: None) -> AsyncIterator[Any]:
    from app.main import create_app

    application = create_app()
    async with application.router.lifespan_context(application):
        yield application


def _written_sql(tables: list[str]) -> str:
    """What a test left behind, in one read: ("table", name) for each table that holds a
    row, and on PostgreSQL ("sequence", name) for each id sequence drawn from since it was
    last reset (a row rolled back still moves it on). SQLite gives a table emptied by
    DELETE its ids from 1 again by itself."""
    parts = [f"SELECT 'table', '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables]
    if IS_PG:
        parts.append(
            "SELECT 'sequence', sequencename::text FROM pg_sequences "
            "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        )
    return " UNION ALL ".join(parts)


@pytest.fixture(autouse=True)
async def _clean(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Empty what the test wrote, children before parents, and start the ids again. Only
    what it wrote: emptying all 45 tables every test cost ~80 ms on PostgreSQL (TRUNCATE
    takes ~2 ms a table, empty or not, and CASCADE from a parent reaches nearly all)."""
    yield
    if "app" not in request.fixturenames:
        return
    from sqlalchemy import text

    from app.core.db import get_engine, metadata
    from app.core.ratelimit import reset_limiter

    reset_limiter()
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with get_engine().begin() as conn:
        left = set((await conn.execute(text(_written_sql(tables)))).tuples().all())
        for t in tables:
            if ("table", t) in left:
                await conn.execute(text(f'DELETE FROM "{t}"'))
        if drawn := sorted(name for kind, name in left if kind == "sequence"):
            await conn.execute(
                text("SELECT " + ", ".join(f"setval('\"{q}\"', 1, false)" for q in drawn))
            )


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def db(app: Any) -> AsyncIterator[Any]:
    from app.core.db import sessionmaker

    async with sessionmaker()() as s:
        yield s


@pytest.fixture
def factory(app: Any) -> Any:
    from tests.factories import Factory

    return Factory()
