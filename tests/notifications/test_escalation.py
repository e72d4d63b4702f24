"""Escalation on respond_by: the offer widened at half the window, coordinators told at four
fifths, the case overdue at the deadline (flag, list filter, event, webhook, record)."""

from datetime import timedelta

from sqlalchemy import select

from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.models import OutboxEvent
from app.notifications import jobs
from app.notifications.models import Notification
from tests.notifications.support import API, send_all
from tests.specialists.support import make_specialist


async def _notes(user_id: str, kind: str) -> list[Notification]:
    async with sessionmaker()() as s:
        return list(
            (
                await s.scalars(
                    select(Notification).where(
                        Notification.user_id == user_id, Notification.kind == kind
                    )
                )
            ).all()
        )


async def _events(type_: str, resource_id: str) -> list[OutboxEvent]:
    async with sessionmaker()() as s:
        return list(
            (
                await s.scalars(
                    select(OutboxEvent).where(
                        OutboxEvent.type == type_, OutboxEvent.resource_id == resource_id
                    )
                )
            ).all()
        )


async def test_a_case_nobody_takes_escalates_step_by_step(client, factory, smtp, clock):
    org = await factory.make_org(country="MW")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    coord = await factory.make_user(Role.coordinator)
    first = await make_specialist(factory, languages=["en"])
    start = clock.now()
    case = await factory.make_case(
        org.id,
        submitted_by_id=clin.id,
        languages=["en"],
        created_at=start,
        respond_by=start + timedelta(hours=10),
    )
    await factory.make_offer(case.id, first.id, expires_at=start + timedelta(hours=12))
    others = [await make_specialist(factory, languages=["en"]) for _ in range(3)]

    await jobs.run_escalation()  # the case gets its escalation schedule; nothing is due
    assert await _notes(coord.id, "case_unmatched") == []

    clock.set(start + timedelta(hours=5))  # half the window: the offer goes wider
    await jobs.run_escalation()
    async with sessionmaker()() as s:
        from app.cases.models import Offer

        offered = set(
            (await s.scalars(select(Offer.specialist_id).where(Offer.case_id == case.id))).all()
        )
    assert offered == {first.id, *[o.id for o in others[:2]]}
    await jobs.run_escalation()  # once
    async with sessionmaker()() as s:
        assert len((await s.scalars(select(Offer).where(Offer.case_id == case.id))).all()) == 3

    clock.set(start + timedelta(hours=8))  # four fifths: the coordinators are told
    await jobs.run_escalation()
    [told] = await _notes(coord.id, "case_unmatched")
    assert told.data["stage"] == "deadline_near" and told.link.endswith(case.id)
    await jobs.run_escalation()
    assert len(await _notes(coord.id, "case_unmatched")) == 1

    h = factory.headers(coord)
    r = await client.get(f"{API}/cases", params={"overdue": "true"}, headers=h)
    assert r.json()["items"] == []
    clock.set(start + timedelta(hours=10))  # the deadline: overdue, announced once
    await jobs.run_escalation()
    await jobs.run_escalation()
    assert len(await _events("case.overdue", case.id)) == 1
    [overdue] = await _notes(coord.id, "case_overdue")
    r = await client.get(f"{API}/cases", params={"overdue": "true"}, headers=h)
    assert [c["id"] for c in r.json()["items"]] == [case.id]
    assert r.json()["items"][0]["overdue"] is True
    r = await client.get(f"{API}/cases", params={"overdue": "false"}, headers=h)
    assert case.id not in [c["id"] for c in r.json()["items"]]
    got = await client.get(f"{API}/cases/{case.id}", headers=h)
    assert got.json()["overdue"] is True
    record = (await client.get(f"{API}/cases/{case.id}/record", headers=h)).json()
    steps = [
        e["type"] for e in record["entries"] if e["type"].startswith(("escalation", "overdue"))
    ]
    assert steps == ["escalation_widened", "escalation_coordinators_told", "overdue"]
    await send_all()
    assert [m["Subject"] for m in smtp.to(coord.email)] == [
        "Case without a specialist: Dermatology, routine (Malawi)",
        "Case past its deadline: Dermatology, routine (Malawi)",
    ]


async def test_an_assigned_case_is_not_widened_but_still_goes_overdue(client, factory, clock):
    org = await factory.make_org()
    spec = await make_specialist(factory)
    coord = await factory.make_user(Role.coordinator)
    start = clock.now()
    case = await factory.make_case(
        org.id,
        assigned_specialist_id=spec.id,
        created_at=start,
        respond_by=start + timedelta(hours=1),
    )
    await jobs.run_escalation()
    clock.set(start + timedelta(minutes=50))
    await jobs.run_escalation()
    assert await _notes(coord.id, "case_unmatched") == []
    clock.set(start + timedelta(hours=1, seconds=1))
    await jobs.run_escalation()
    assert len(await _events("case.overdue", case.id)) == 1


async def test_an_answered_case_never_goes_overdue(client, factory, clock):
    org = await factory.make_org()
    spec = await make_specialist(factory)
    start = clock.now()
    case = await factory.make_case(
        org.id,
        assigned_specialist_id=spec.id,
        status="answered",
        created_at=start,
        respond_by=start + timedelta(hours=1),
    )
    clock.set(start + timedelta(hours=2))
    await jobs.run_escalation()
    assert await _events("case.overdue", case.id) == []


async def test_partners_can_subscribe_to_case_overdue(client, factory):
    admin = await factory.make_user(Role.admin)
    r = await client.post(
        f"{API}/webhooks",
        json={"url": "https://hooks.example.org/x", "events": ["case.overdue"]},
        headers=factory.headers(admin),
    )
    assert r.status_code == 201, r.text
