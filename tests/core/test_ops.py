"""Health, readiness, metrics; settings that refuse a default secret; start-up that refuses a
database whose schema is behind; no patient data in the logs."""

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from app.core.config import DEFAULT_SECRET, Settings
from app.core.principal import Role
from tests.core.helpers import API, ORG, assert_problem


async def test_healthz(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_ok(client):
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


async def test_readyz_is_503_when_the_schema_is_behind(client, app):
    from app.core.db import get_engine

    engine = get_engine()
    async with engine.begin() as conn:
        heads = [
            row[0] for row in await conn.execute(text("SELECT version_num FROM alembic_version"))
        ]
        # Pretend one branch was never migrated past the first revision.
        await conn.execute(
            text("UPDATE alembic_version SET version_num = '0001' WHERE version_num = :h"),
            {"h": heads[0]},
        )
    try:
        r = await client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"] == {"database": "ok", "migrations": "behind"}
    finally:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE alembic_version SET version_num = :h WHERE version_num = '0001'"),
                {"h": heads[0]},
            )
    assert (await client.get("/readyz")).status_code == 200


async def test_metrics_in_prometheus_format(client, factory):
    h = factory.headers(await factory.make_user(Role.admin))
    await client.get(f"{API}/organizations", headers=h)
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    # Labelled by route template, never by the concrete URL (ids would explode the series).
    assert 'http_requests_total{method="GET",route="/api/v1/organizations",status="200"}' in r.text
    assert "http_request_duration_seconds_bucket" in r.text


@pytest.mark.parametrize("environment", ["production", "test"])
def test_settings_refuse_the_default_secret_outside_development(environment):
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment=environment, secret_key=DEFAULT_SECRET)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment=environment, secret_key="short")
    assert Settings(environment=environment, secret_key="s" * 32).secret_key == "s" * 32


def test_settings_allow_the_default_secret_in_development():
    assert (
        Settings(environment="development", secret_key=DEFAULT_SECRET).environment == "development"
    )


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u@db:5432/consult")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("DEMO_DATA", "1")
    s = Settings()
    assert s.database_url.endswith("/consult") and s.redis_url == "redis://cache:6379/0"
    assert s.demo_data is True and not s.is_sqlite


async def test_start_up_refuses_a_database_whose_schema_is_behind(tmp_path, monkeypatch):
    """An empty database (never migrated) and one a revision behind are both refused."""
    from alembic import command
    from app import main
    from app.core import db
    from app.core.migrations import alembic_config

    saved = db._db
    try:
        for target in (None, "0001"):
            url = f"sqlite+aiosqlite:///{tmp_path / f'behind-{target}.db'}"
            if target:
                cfg = alembic_config(url)
                cfg.attributes["skip_logging"] = True
                import asyncio

                await asyncio.to_thread(command.upgrade, cfg, target)
            monkeypatch.setattr(
                main,
                "get_settings",
                lambda u=url: Settings(database_url=u, secret_key="s" * 32, run_worker=False),
            )
            application = main.create_app()
            with pytest.raises(main.SchemaBehind, match="alembic upgrade head"):
                async with main.lifespan(application):
                    pass
    finally:
        db._db = saved


async def test_no_patient_data_or_secrets_in_logs(client, factory, caplog):
    """Whatever goes wrong, the log names routes and error types, never what was sent."""
    admin = factory.headers(await factory.make_user(Role.admin))
    secret_pw = "Sup3r-secret-pass-" + "9" * 4
    marker = "MRN-" + "77" * 3
    with caplog.at_level("DEBUG"):
        await client.post(
            f"{API}/auth/token",
            data={"grant_type": "password", "username": "x@example.org", "password": secret_pw},
        )
        r = await client.post(
            f"{API}/users",
            headers=admin,
            json={
                "email": "new.user@example.org",
                "name": f"Patient {marker}",
                "role": "specialist",
                "password": secret_pw,
            },
        )
        assert r.status_code == 201
        r = await client.post(
            f"{API}/organizations", headers=admin, json={**ORG, "name": marker, "unknown": marker}
        )
        assert_problem(r, 422)
        r = await client.post(
            f"{API}/organizations",
            content=f'{{"x": "{marker}"',
            headers={**admin, "Content-Type": "application/json"},
        )
        assert_problem(r, 400)
        # A database error quoting the row: two users with one email race past the check.
        from sqlalchemy.exc import IntegrityError

        from app.auth.models import User
        from app.core.db import sessionmaker

        async with sessionmaker()() as s:
            s.add(User(email="new.user@example.org", name=marker, role="specialist"))
            with pytest.raises(IntegrityError) as err:
                await s.flush()
            await s.rollback()
        assert marker not in str(err.value)
    assert caplog.records, "nothing was logged at all: the check would prove nothing"
    for record in caplog.records:
        text_ = record.getMessage()
        assert secret_pw not in text_ and marker not in text_, (record.name, text_)
