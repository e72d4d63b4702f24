from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.clock import utcnow
from app.core.principal import Role
from tests.notes.helpers import API, note_world, rows


async def test_feedback_once_per_clinician_a_second_replaces_the_first(client, factory):
    w = await note_world(factory, status="answered", answered_at=utcnow())
    url, h = f"{API}/cases/{w.case.id}/feedback", factory.headers(w.clinician)
    r = await client.post(
        url,
        json={"usefulness": 4, "changed_management": True, "comment": "Changed the antibiotic"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["revision"] == 1 and first["replaced"] == []
    r = await client.post(url, json={"usefulness": 2, "changed_management": False}, headers=h)
    assert r.status_code == 200
    second = r.json()
    assert second["id"] == first["id"] and second["revision"] == 2
    assert second["usefulness"] == 2 and second["comment"] is None
    assert second["replaced"][0]["usefulness"] == 4
    assert second["replaced"][0]["comment"] == "Changed the antibiotic"
    actions = [
        e.action
        for e in await rows(
            select(AuditEntry).where(AuditEntry.resource_id == first["id"]).order_by(AuditEntry.id)
        )
    ]
    assert actions == ["feedback.create", "feedback.replace"]
    # A colleague's feedback is their own.
    colleague = await factory.make_user(Role.clinician, organization_id=w.org.id)
    r = await client.post(
        url, json={"usefulness": 5, "changed_management": True}, headers=factory.headers(colleague)
    )
    assert r.status_code == 201 and r.json()["id"] != first["id"]


async def test_feedback_rules(client, factory):
    w = await note_world(factory)  # assigned, not answered yet
    url = f"{API}/cases/{w.case.id}/feedback"
    good = {"usefulness": 3, "changed_management": False}
    assert (
        await client.post(url, json=good, headers=factory.headers(w.clinician))
    ).status_code == 409
    assert (
        await client.post(url, json=good, headers=factory.headers(w.specialist))
    ).status_code == 403
    for bad in (
        {"usefulness": 0, "changed_management": False},
        {"usefulness": 6, "changed_management": False},
        {"usefulness": 3},
        {**good, "stars": 5},
    ):
        r = await client.post(url, json=bad, headers=factory.headers(w.clinician))
        assert r.status_code == 422, bad


async def test_two_first_answers_at_once_one_creates_the_other_replaces(client, factory):
    import asyncio

    w = await note_world(factory, status="answered", answered_at=utcnow())
    url, h = f"{API}/cases/{w.case.id}/feedback", factory.headers(w.clinician)
    a, b = await asyncio.gather(
        client.post(url, json={"usefulness": 4, "changed_management": True}, headers=h),
        client.post(url, json={"usefulness": 2, "changed_management": False}, headers=h),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 201], (a.text, b.text)
    assert a.json()["id"] == b.json()["id"]
    assert max(a.json()["revision"], b.json()["revision"]) == 2
