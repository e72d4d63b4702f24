"""Migration 0098: a follow-up left open on a case cancelled before cancelling closed them
is cancelled (and reads back as any cancelled one does); an open follow-up of an open case,
and a done one of a cancelled case, are left as they were. On a database of its own, of the
suite's kind, migrated to 0097 first."""

import asyncio
import os
import secrets
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.auth.models import User
from app.cases.models import Case
from app.core.clock import utcnow
from app.followups.models import FollowUp
from app.organizations.models import Organization
from tests.conftest import _TMP, BASE_URL, IS_PG, _pg


def _to(url: str, revision: str) -> None:
    from alembic import command
    from app.core.migrations import alembic_config

    cfg = alembic_config(url)
    cfg.attributes["skip_logging"] = True
    command.upgrade(cfg, revision)


async def test_open_follow_ups_of_cancelled_cases_are_cancelled():
    name = f"test_mig_{os.getpid()}_{secrets.token_hex(3)}"
    if IS_PG:
        url = BASE_URL.rsplit("/", 1)[0] + f"/{name}"
        await _pg(f'CREATE DATABASE "{name}"')
    else:
        url = f"sqlite+aiosqlite:///{_TMP / name}.sqlite"
    engine = create_async_engine(url)
    try:
        await asyncio.to_thread(_to, url, "0097")
        due = utcnow() - timedelta(days=3)
        async with async_sessionmaker(engine, expire_on_commit=False)() as s:
            org = Organization(name="Posta", country="AR", timezone="UTC", languages=["es"])
            s.add(org)
            await s.flush()
            nurse = User(email="n@example.org", name="Nurse", role="clinician")
            nurse.organization_id = org.id
            s.add(nurse)
            cases = {}
            for status in ("cancelled", "assigned"):
                cases[status] = Case(
                    organization_id=org.id,
                    specialty="dermatology",
                    urgency="routine",
                    question="Rash?",
                    patient_reference="HSR-1",
                    languages=["es"],
                    consent_method="verbal",
                    respond_by=due,
                    status=status,
                )
                s.add(cases[status])
            await s.flush()
            ids = {}
            for name, status, fu_status in (
                ("left", "cancelled", "open"),
                ("done", "cancelled", "done"),
                ("open", "assigned", "open"),
            ):
                fu = FollowUp(
                    case_id=cases[status].id,
                    organization_id=org.id,
                    specialty="dermatology",
                    due_at=due,
                    description="Review",
                    assignee_id=nurse.id,
                    status=fu_status,
                )
                s.add(fu)
                await s.flush()
                ids[fu.id] = name
            await s.commit()
        await asyncio.to_thread(_to, url, "0098")
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT id, status, version, completed_at FROM follow_up ORDER BY id")
            )
            found = {ids[r[0]]: (r[1], r[2], r[3]) for r in rows}
        assert found["left"][:2] == ("cancelled", 2) and found["left"][2] is not None
        assert found["done"][:2] == ("done", 1)
        assert found["open"][:2] == ("open", 1)
        # Read back through the model as any cancelled one is (SQLite keeps the time as text).
        left = next(k for k, v in ids.items() if v == "left")
        async with async_sessionmaker(engine)() as s:
            fu = await s.get(FollowUp, left)
            assert fu is not None and fu.completed_at is not None
            assert fu.completed_at.tzinfo is not None and fu.completed_at >= due
    finally:
        await engine.dispose()
        if IS_PG:
            await _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
