from datetime import timedelta

from sqlalchemy import select

from app.core.clock import utcnow
from app.core.principal import Role
from app.events.models import OutboxEvent
from app.followups.jobs import followups_due
from tests.notes.helpers import API, note_world, rows


def _due(hours: float) -> str:
    return (utcnow() + timedelta(hours=hours)).isoformat()


async def _follow_up(client, factory, w, hours=24.0, assignee=None, who=None) -> dict:
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(who or w.specialist),
        json={
            "due_at": _due(hours),
            "description": "Review the rash",
            "assignee_id": (assignee or w.clinician).id,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _late(client, factory, w, clock, hours: float, **kw) -> dict:
    """A follow-up `hours` past its due time: planned due in ten minutes (a plan is not made
    due already), then the clock moves past it."""
    fu = await _follow_up(client, factory, w, hours=1 / 6, **kw)
    clock.advance(timedelta(hours=1 / 6 + hours))
    return fu


async def test_a_follow_up_has_a_due_date_an_owner_and_starts_open(client, factory):
    w = await note_world(factory)
    fu = await _follow_up(client, factory, w)
    assert fu["status"] == "open" and fu["assignee_id"] == w.clinician.id
    assert fu["overdue"] is False and fu["created_by_id"] == w.specialist.id
    r = await client.get(f"{API}/follow-ups/{fu['id']}", headers=factory.headers(w.clinician))
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'


async def test_a_due_time_sent_with_an_offset_is_answered_and_announced_in_utc(client, factory):
    """Times are returned in UTC: 09:00+03:00 is 06:00Z in the answer, in a read and in the
    event partners get (it was echoed, and written into the event, with its offset)."""
    from datetime import UTC, datetime, timezone

    w = await note_world(factory)
    nairobi = timezone(timedelta(hours=3))
    due = (utcnow() + timedelta(days=2)).astimezone(nairobi).replace(microsecond=0)
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.specialist),
        json={"due_at": due.isoformat(), "description": "Review", "assignee_id": w.clinician.id},
    )
    assert r.status_code == 201, r.text
    in_utc = due.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert due.isoformat().endswith("+03:00") and r.json()["due_at"] == in_utc
    read = await client.get(r.headers["Location"], headers=factory.headers(w.clinician))
    assert read.json()["due_at"] == in_utc
    (ev,) = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.created"))
    assert datetime.fromisoformat(ev.payload["due_at"]).utcoffset() == timedelta(0), ev.payload
    assert datetime.fromisoformat(ev.payload["due_at"]) == due


async def test_the_owner_must_see_the_case(client, factory):
    w = await note_world(factory)
    outsider = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org()).id
    )
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.specialist),
        json={"due_at": _due(1), "description": "x", "assignee_id": outsider.id},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/assignee_id"
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.specialist),
        json={
            # A week ahead by the tests' clock, without its offset: refused for the missing
            # zone, not for being past.
            "due_at": (utcnow() + timedelta(days=7)).replace(tzinfo=None).isoformat(),
            "description": "naive time",
            "assignee_id": w.clinician.id,
        },
    )
    assert r.status_code == 422
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [
        ("/due_at", "timezone_aware")
    ]


async def test_an_interpreter_on_the_case_may_not_plan_follow_up(client, factory):
    w = await note_world(factory)
    interp = await factory.make_user(Role.interpreter)
    await factory.add_participant(w.case.id, interp.id)
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(interp),
        json={"due_at": _due(1), "description": "x", "assignee_id": w.clinician.id},
    )
    assert r.status_code == 403


async def test_no_follow_up_on_a_closed_case(client, factory):
    w = await note_world(factory, status="closed")
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.specialist),
        json={"due_at": _due(1), "description": "x", "assignee_id": w.clinician.id},
    )
    assert r.status_code == 409


async def test_overdue_lists_the_late_ones_and_lists_follow_visibility(client, factory, clock):
    w = await note_world(factory)
    late = await _late(client, factory, w, clock, 2)
    soon = await _follow_up(client, factory, w, hours=+2)
    h = factory.headers(w.clinician)
    r = await client.get(f"{API}/follow-ups", params={"overdue": "true"}, headers=h)
    assert [f["id"] for f in r.json()["items"]] == [late["id"]]
    assert r.json()["items"][0]["overdue"] is True
    r = await client.get(f"{API}/follow-ups", params={"status": "open"}, headers=h)
    assert {f["id"] for f in r.json()["items"]} == {late["id"], soon["id"]}
    # Another facility's clinician sees none of them, in the list as in a read.
    other = await factory.make_user(Role.clinician, organization_id=(await factory.make_org()).id)
    r = await client.get(f"{API}/follow-ups", headers=factory.headers(other))
    assert r.status_code == 200 and r.json()["items"] == []
    r = await client.get(f"{API}/follow-ups/{late['id']}", headers=factory.headers(other))
    assert r.status_code == 404
    # Paginated, newest first, stable.
    r = await client.get(f"{API}/follow-ups", params={"limit": 1}, headers=h)
    page1 = r.json()
    assert len(page1["items"]) == 1 and page1["next_cursor"]
    r = await client.get(
        f"{API}/follow-ups", params={"limit": 1, "cursor": page1["next_cursor"]}, headers=h
    )
    assert [f["id"] for f in page1["items"] + r.json()["items"]] == [soon["id"], late["id"]]
    assert r.json()["next_cursor"] is None


async def test_closing_a_follow_up_records_its_outcome_once(client, factory, clock):
    w = await note_world(factory)
    fu = await _late(client, factory, w, clock, 1)
    url, h = f"{API}/follow-ups/{fu['id']}", factory.headers(w.clinician)
    r = await client.patch(url, json={"status": "open"}, headers=h)
    assert r.status_code == 422
    r = await client.patch(url, json={"status": "done"}, headers={**h, "If-Match": '"7"'})
    assert r.status_code == 412
    r = await client.patch(
        url, json={"status": "done", "outcome": "Rash resolved"}, headers={**h, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "done" and body["outcome"] == "Rash resolved"
    assert body["completed_at"] and body["overdue"] is False and r.headers["ETag"] == '"2"'
    r = await client.patch(url, json={"status": "missed"}, headers=h)
    assert r.status_code == 409
    r = await client.get(f"{API}/follow-ups", params={"overdue": "true"}, headers=h)
    assert r.json()["items"] == []
    r = await client.get(f"{API}/follow-ups", params={"status": "done"}, headers=h)
    assert [f["id"] for f in r.json()["items"]] == [fu["id"]]


async def test_the_owner_hears_once_when_a_follow_up_falls_due(client, factory, clock):
    w = await note_world(factory)
    late = await _late(client, factory, w, clock, 1, assignee=w.specialist)
    await _follow_up(client, factory, w, hours=+5)
    await followups_due()
    await followups_due()
    events = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.due"))
    assert len(events) == 1
    assert events[0].resource_id == late["id"] and events[0].audience == [w.specialist.id]
    assert events[0].payload["case_id"] == w.case.id


async def test_a_closed_follow_up_is_not_announced_as_due(client, factory, clock):
    w = await note_world(factory)
    fu = await _late(client, factory, w, clock, 1)
    await client.patch(
        f"{API}/follow-ups/{fu['id']}",
        json={"status": "cancelled"},
        headers=factory.headers(w.clinician),
    )
    await followups_due()
    assert await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.due")) == []


async def test_a_read_with_the_current_etag_is_304_and_a_stale_one_is_read_again(client, factory):
    w = await note_world(factory)
    fu = await _follow_up(client, factory, w)
    url, h = f"{API}/follow-ups/{fu['id']}", factory.headers(w.clinician)
    r = await client.get(url, headers={**h, "If-None-Match": '"1"'})
    assert r.status_code == 304 and r.headers["ETag"] == '"1"' and r.content == b""
    r = await client.patch(url, json={"status": "done"}, headers=h)  # If-Match is optional
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    r = await client.get(url, headers={**h, "If-None-Match": '"1"'})
    assert r.status_code == 200 and r.json()["status"] == "done"


async def test_the_owner_hears_once_more_when_a_follow_up_is_overdue(client, factory, clock):
    w = await note_world(factory)
    fu = await _follow_up(client, factory, w, hours=1, assignee=w.specialist)
    done = await _follow_up(client, factory, w, hours=1)
    await followups_due()
    assert await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.due")) == []
    clock.advance(timedelta(hours=2))
    await followups_due()
    clock.advance(timedelta(hours=12))
    await client.patch(
        f"{API}/follow-ups/{done['id']}",
        json={"status": "done", "outcome": "Seen"},
        headers={**factory.headers(w.clinician), "If-Match": '"1"'},
    )
    await followups_due()  # due 13 h ago: late, not yet overdue
    assert await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.overdue")) == []
    clock.advance(timedelta(hours=12))  # 25 h past due, still open
    await followups_due()
    await followups_due()
    due = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.due"))
    overdue = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.overdue"))
    assert sorted(e.resource_id for e in due) == sorted([fu["id"], done["id"]])
    # The one closed meanwhile is not overdue; the open one is announced once.
    assert [(e.resource_id, e.audience) for e in overdue] == [(fu["id"], [w.specialist.id])]


async def test_a_follow_up_found_long_past_due_is_announced_overdue_only(client, factory, clock):
    w = await note_world(factory)
    fu = await _late(client, factory, w, clock, 30)
    await followups_due()
    assert await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.due")) == []
    [e] = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.overdue"))
    assert e.resource_id == fu["id"] and e.payload["case_id"] == w.case.id


async def test_a_follow_up_cannot_be_planned_due_in_the_past(client, factory):
    w = await note_world(factory)
    h = factory.headers(w.specialist)
    url = f"{API}/cases/{w.case.id}/follow-ups"
    body = {"description": "Review the rash", "assignee_id": w.clinician.id}
    r = await client.post(url, json={**body, "due_at": _due(-2)}, headers=h)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [
        {"pointer": "/due_at", "detail": "in the past", "code": "in_the_past"}
    ]
    assert (await client.get(f"{API}/follow-ups", headers=h)).json()["items"] == []
    # "Today at 9:00", typed at 9:40: meant, and taken (it falls due at the next pass).
    r = await client.post(url, json={**body, "due_at": _due(-40 / 60)}, headers=h)
    assert r.status_code == 201, r.text


async def test_cancelling_the_case_cancels_its_open_follow_ups(client, factory, clock):
    """A cancelled case takes no more care: its open follow-ups end with it (heard of as
    any follow-up ended by hand), so no list shows them late for good; one already done
    keeps its outcome."""
    w = await note_world(factory)
    late = await _late(client, factory, w, clock, 2)
    coming = await _follow_up(client, factory, w, hours=48, assignee=w.specialist)
    done = await _follow_up(client, factory, w, hours=24)
    h = factory.headers(w.clinician)
    r = await client.patch(
        f"{API}/follow-ups/{done['id']}",
        json={"status": "done", "outcome": "Seen, healing"},
        headers={**h, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text

    r = await client.post(f"{API}/cases/{w.case.id}/cancel", json={}, headers=h)
    assert r.status_code == 200, r.text

    r = await client.get(f"{API}/follow-ups", params={"case_id": w.case.id}, headers=h)
    found = {f["id"]: f for f in r.json()["items"]}
    # A list names each follow-up's case by its question (a list across cases, no reads).
    assert {f["case_question"] for f in found.values()} == {w.case.question}
    assert found[late["id"]]["status"] == "cancelled" and not found[late["id"]]["overdue"]
    assert found[coming["id"]]["status"] == "cancelled" and found[coming["id"]]["version"] == 2
    assert found[done["id"]]["status"] == "done" and found[done["id"]]["outcome"] == "Seen, healing"
    r = await client.get(f"{API}/follow-ups", params={"status": "open"}, headers=h)
    assert r.json()["items"] == []
    updated = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.updated"))
    events = [e for e in updated if e.payload["status"] == "cancelled"]
    assert sorted(e.resource_id for e in events) == sorted([late["id"], coming["id"]])
    # The specialist who owns one hears of it; the clinician who cancelled does not.
    heard = {e.resource_id: e.audience for e in events}
    assert w.specialist.id in heard[coming["id"]] and w.clinician.id not in heard[coming["id"]]
    # In the shape a follow-up ended by hand is announced in: a listener reads one shape.
    said = {e.resource_id: e.payload for e in events}[coming["id"]]
    assert said == {
        "follow_up_id": coming["id"],
        "case_id": w.case.id,
        "status": "cancelled",
        "due_at": said["due_at"],
        "assignee_id": w.specialist.id,
    }
    assert said["due_at"][:19] == coming["due_at"].replace("Z", "+00:00")[:19]
    from app.audit.models import AuditEntry

    # The list that showed them is audited with the case whose question it gave.
    listed = await rows(
        select(AuditEntry).where(AuditEntry.action == "follow_up.list").order_by(AuditEntry.id)
    )
    assert [e.detail for e in listed] == [f"cases={w.case.id}", "cases="]  # by case, then none
    # Each is audited, naming the case and who cancelled it.
    entries = await rows(
        select(AuditEntry).where(
            AuditEntry.action == "follow_up.update",
            AuditEntry.resource_id.in_([late["id"], coming["id"]]),
        )
    )
    assert len(entries) == 2, entries
    assert all(f"case {w.case.id}" in e.detail and w.clinician.id in e.detail for e in entries)
