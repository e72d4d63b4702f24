"""The JSON the database keeps for the case list (app.cases.listing) follows every write."""

from sqlalchemy import text, update

from app.cases import listing
from app.cases.models import Case
from app.core.db import get_engine, sessionmaker
from app.core.principal import Role
from tests.cases.support import API, case_body


async def test_the_installed_triggers_are_the_ones_the_code_writes(app):
    """The migration froze the triggers' SQL; a change to the cases' JSON shape (SHAPES)
    needs a new migration that installs it, or lists would show the old shape."""
    async with get_engine().connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = await conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            )
            installed = {name: sql for name, sql in rows}
            expected = dict(
                zip(listing.SQLITE_TRIGGERS, listing.trigger_sql("sqlite"), strict=True)
            )
            assert {n: installed.get(n) for n in expected} == expected
        else:
            body = await conn.scalar(
                text("SELECT prosrc FROM pg_proc WHERE proname = :f"), {"f": listing.FUNCTION}
            )
            assert body == listing.function_body(), "the trigger function is out of date"
            config = await conn.scalar(
                text("SELECT proconfig FROM pg_proc WHERE proname = :f"), {"f": listing.FUNCTION}
            )
            assert config == [listing.FLOAT_DIGITS.replace(" ", "")]
            fires = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_trigger WHERE tgname = :f "
                    "AND tgrelid = '\"case\"'::regclass AND tgenabled = 'O'"
                ),
                {"f": listing.FUNCTION},
            )
            assert fires == 1


async def _listed(client, h, case_id):
    items = (await client.get(f"{API}/cases", headers=h)).json()["items"]
    return next(i for i in items if i["id"] == case_id)


async def test_the_list_follows_each_write_of_a_case(client, factory):
    """Intake (fast statements: app.core.queries), changes through the API (the ORM), and a plain
    UPDATE all rewrite the listed JSON: it always equals a read."""
    org = await factory.make_org(name="Facility")
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clinician)
    created = await client.post(f"{API}/cases", json=case_body(), headers=h)
    assert created.status_code == 201
    case_id = created.json()["id"]
    assert await _listed(client, h, case_id) == created.json()

    cancelled = await client.post(
        f"{API}/cases/{case_id}/cancel", json={"reason": "Referred in person"}, headers=h
    )
    assert cancelled.status_code == 200, cancelled.text
    listed = await _listed(client, h, case_id)
    assert listed["status"] == "cancelled" and listed["cancel_reason"] == "Referred in person"
    assert listed == (await client.get(f"{API}/cases/{case_id}", headers=h)).json()

    async with sessionmaker()() as s:
        await s.execute(update(Case).where(Case.id == case_id).values(question="Edited?"))
        await s.commit()
    listed = await _listed(client, h, case_id)
    assert listed["question"] == "Edited?"
    assert listed == (await client.get(f"{API}/cases/{case_id}", headers=h)).json()


async def test_both_views_are_kept_and_a_specialist_gets_the_summary(client, factory):
    org = await factory.make_org(name="Facility")
    specialist = await factory.make_user(Role.specialist)
    case = await factory.make_case(org.id, status="offered")
    await factory.make_offer(case.id, specialist.id)
    h = factory.headers(specialist)
    listed = await _listed(client, h, case.id)
    assert listed["view"] == "summary" and "reference" not in listed["patient"]
    assert listed == (await client.get(f"{API}/cases/{case.id}", headers=h)).json()
    # Assigned: the same specialist now lists the whole case.
    async with sessionmaker()() as s:
        await s.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(status="assigned", assigned_specialist_id=specialist.id)
        )
        await s.commit()
    listed = await _listed(client, h, case.id)
    assert listed["view"] == "full" and listed["patient"]["reference"]
    assert listed == (await client.get(f"{API}/cases/{case.id}", headers=h)).json()


async def test_refresh_rewrites_what_a_trigger_would(app, factory):
    """`refresh_sql` (a migration's backfill) writes the same JSON as the triggers."""
    org = await factory.make_org(name="Facility")
    case = await factory.make_case(org.id)
    async with get_engine().begin() as conn:
        before = (
            await conn.execute(
                text("SELECT full_json, summary_json FROM case_listing WHERE case_id = :c"),
                {"c": case.id},
            )
        ).one()
        await conn.execute(text("DELETE FROM case_listing"))
        for statement in listing.refresh_sql(conn.dialect.name):
            await conn.exec_driver_sql(statement)
        after = (
            await conn.execute(
                text("SELECT full_json, summary_json FROM case_listing WHERE case_id = :c"),
                {"c": case.id},
            )
        ).one()
    assert tuple(after) == tuple(before)


async def test_the_stored_json_does_not_depend_on_the_writers_settings(client, factory):
    """PostgreSQL prints floats as the writing session's extra_float_digits says: a case
    written by a session that lowered it still lists exactly as it reads."""
    org = await factory.make_org(name="Facility")
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    case = await factory.make_case(org.id, patient_age_years=1 / 3)
    async with get_engine().begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL extra_float_digits = 0"))
        await conn.execute(
            text('UPDATE "case" SET question = :q WHERE id = :c'), {"q": "Q?", "c": case.id}
        )
    h = factory.headers(clinician)
    listed = await _listed(client, h, case.id)
    assert listed["patient"]["age_years"] == 1 / 3 and listed["question"] == "Q?"
    assert listed == (await client.get(f"{API}/cases/{case.id}", headers=h)).json()
