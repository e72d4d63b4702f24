"""An open follow-up planned again: a new due time (the patient comes on Monday, not
Friday) or a new owner (the nurse who was to see her is away). Before, the only way was to
cancel it and plan another, which lost its history and counted as cancelled."""

import asyncio
from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.clock import utcnow
from app.core.principal import Role
from app.events.models import OutboxEvent
from app.followups.jobs import followups_due
from app.notifications.models import Notification
from tests.core.helpers import assert_problem
from tests.notes.helpers import API, note_world, rows


def _at(hours: float) -> str:
    return (utcnow() + timedelta(hours=hours)).isoformat()


async def _planned(client, factory, w, hours: float = 24.0) -> dict:
    """Planned by the specialist, owned by the referring clinician."""
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.specialist),
        json={
            "due_at": _at(hours),
            "description": "Review the rash",
            "assignee_id": w.clinician.id,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_new_due_time_and_a_new_owner_each_tell_the_others(client, factory):
    w = await note_world(factory)
    fu = await _planned(client, factory, w)
    url = f"{API}/follow-ups/{fu['id']}"

    monday = _at(72)
    r = await client.patch(
        url, json={"due_at": monday}, headers={**factory.headers(w.clinician), "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    moved = r.json()
    assert r.headers["ETag"] == '"2"' and moved["version"] == 2
    assert moved["status"] == "open" and moved["assignee_id"] == w.clinician.id
    assert moved["due_at"].replace("Z", "+00:00")[:19] == monday[:19]

    # The clinician is away: the specialist takes it on herself.
    r = await client.patch(
        url,
        json={"assignee_id": w.specialist.id},
        headers={**factory.headers(w.specialist), "If-Match": '"2"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["assignee_id"] == w.specialist.id and r.json()["version"] == 3

    updated = await rows(
        select(OutboxEvent)
        .where(OutboxEvent.type == "followup.updated")
        .order_by(OutboxEvent.id)  # the order they were written
    )
    # Each tells the others it concerns, never the one who made it: the new time its planner,
    # the new owner the owner it was taken from.
    assert [e.audience for e in updated] == [[w.specialist.id], [w.clinician.id]]
    assert updated[1].payload["assignee_id"] == w.specialist.id
    assert updated[0].payload["due_at"][:19] == monday[:19]

    listed = await client.get(
        f"{API}/follow-ups",
        params={"assignee_id": w.specialist.id},
        headers=factory.headers(w.specialist),
    )
    assert [f["id"] for f in listed.json()["items"]] == [fu["id"]]


async def test_planned_again_it_falls_due_and_late_again_at_its_new_time(client, factory, clock):
    w = await note_world(factory)
    fu = await _planned(client, factory, w, hours=1 / 6)
    clock.advance(timedelta(hours=30))  # long past due, still open
    await followups_due()
    late = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.overdue"))
    assert [e.resource_id for e in late] == [fu["id"]]

    # She could not come: seen the day after tomorrow instead.
    r = await client.patch(
        f"{API}/follow-ups/{fu['id']}",
        json={"due_at": _at(48)},
        headers=factory.headers(w.clinician),
    )
    assert r.status_code == 200 and r.json()["overdue"] is False, r.text
    await followups_due()
    assert len(await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.due"))) == 0

    clock.advance(timedelta(hours=49))
    await followups_due()
    due = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.due"))
    assert [(e.resource_id, e.audience) for e in due] == [(fu["id"], [w.clinician.id])]
    clock.advance(timedelta(hours=30))
    await followups_due()
    late = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.overdue"))
    assert len(late) == 2
    # Told again: late at its new time is news, not a repeat of the first.
    told = await rows(
        select(Notification).where(
            Notification.user_id == w.clinician.id, Notification.kind == "followup_overdue"
        )
    )
    assert len(told) == 2


async def test_what_is_refused_says_why_and_changes_nothing(client, factory):
    w = await note_world(factory)
    fu = await _planned(client, factory, w)
    url, h = f"{API}/follow-ups/{fu['id']}", factory.headers(w.clinician)

    r = await client.patch(url, json={"due_at": _at(-3)}, headers=h)
    body = assert_problem(r, 422)
    assert [(e["pointer"], e.get("code")) for e in body["errors"]] == [("/due_at", "in_the_past")]

    outsider = await factory.make_user(
        Role.clinician, organization_id=(await factory.make_org()).id
    )
    r = await client.patch(url, json={"assignee_id": outsider.id}, headers=h)
    assert [e["pointer"] for e in assert_problem(r, 422)["errors"]] == ["/assignee_id"]

    r = await client.patch(url, json={"status": "done", "due_at": _at(5)}, headers=h)
    assert [e["pointer"] for e in assert_problem(r, 422)["errors"]] == ["/status"]

    r = await client.patch(url, json={"due_at": _at(5)}, headers={**h, "If-Match": '"7"'})
    assert_problem(r, 412)

    r = await client.patch(url, json={"due_at": _at(5)}, headers=factory.headers(outsider))
    assert_problem(r, 404)

    interpreter = await factory.make_user(Role.interpreter)
    await factory.add_participant(w.case.id, interpreter.id)
    r = await client.patch(url, json={"due_at": _at(5)}, headers=factory.headers(interpreter))
    assert_problem(r, 403)

    read = await client.get(url, headers=h)
    assert read.headers["ETag"] == '"1"' and read.json()["due_at"] == fu["due_at"]
    assert read.json()["assignee_id"] == w.clinician.id

    r = await client.patch(url, json={"status": "done", "outcome": "Healed"}, headers=h)
    assert r.status_code == 200, r.text
    r = await client.patch(url, json={"due_at": _at(5)}, headers=h)
    assert_problem(r, 409, "follow-up-closed")
    # Only the ending was announced: nothing refused was.
    updated = await rows(select(OutboxEvent).where(OutboxEvent.type == "followup.updated"))
    assert [e.payload["status"] for e in updated] == ["done"]


async def test_handed_on_when_due_already_its_new_owner_is_told(client, factory, clock):
    """The nurse who was to see her is away: the follow-up, due already, goes to the
    specialist, who is told it is due (the notice went to the one away before)."""
    w = await note_world(factory)
    fu = await _planned(client, factory, w, hours=1 / 6)
    clock.advance(timedelta(hours=1))
    await followups_due()
    r = await client.patch(
        f"{API}/follow-ups/{fu['id']}",
        json={"assignee_id": w.specialist.id},
        headers=factory.headers(w.clinician),
    )
    assert r.status_code == 200, r.text
    await followups_due()
    due = await rows(
        select(OutboxEvent).where(OutboxEvent.type == "followup.due").order_by(OutboxEvent.id)
    )
    assert [e.audience for e in due] == [[w.clinician.id], [w.specialist.id]]
    [entry] = await rows(
        select(AuditEntry).where(
            AuditEntry.action == "follow_up.update", AuditEntry.resource_id == fu["id"]
        )
    )
    assert entry.detail == f"assignee_id: {w.clinician.id} -> {w.specialist.id}"


async def test_an_owner_who_does_not_plan_follow_up_ends_it_but_does_not_move_it(client, factory):
    """An interpreter may own a follow-up (she calls the family back) and record what was
    found, but planning it again is for those who plan: else she could hand it to anyone
    who sees the case. The case page offers her no such form either."""
    w = await note_world(factory)
    interpreter = await factory.make_user(Role.interpreter)
    await factory.add_participant(w.case.id, interpreter.id)
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.specialist),
        json={"due_at": _at(24), "description": "Call the family", "assignee_id": interpreter.id},
    )
    assert r.status_code == 201, r.text
    url, h = f"{API}/follow-ups/{r.json()['id']}", factory.headers(interpreter)
    for change in ({"due_at": _at(48)}, {"assignee_id": w.clinician.id}):
        assert_problem(await client.patch(url, json=change, headers=h), 403)
    r = await client.patch(url, json={"status": "done", "outcome": "Family reached"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "done", r.text


async def test_two_moves_from_one_etag_one_wins(client, factory):
    """Sent together from the same read (two devices): one is saved, the other is told it
    is stale (412), never a silent overwrite or a 'closed' follow-up that is still open."""
    w = await note_world(factory)
    fu = await _planned(client, factory, w)
    url = f"{API}/follow-ups/{fu['id']}"
    rs = await asyncio.gather(
        *(
            client.patch(
                url,
                json={"due_at": _at(hours)},
                headers={**factory.headers(who), "If-Match": '"1"'},
            )
            for who, hours in ((w.clinician, 48), (w.specialist, 72))
        )
    )
    assert sorted(r.status_code for r in rs) == [200, 412], [r.text for r in rs]
    read = await client.get(url, headers=factory.headers(w.clinician))
    assert read.headers["ETag"] == '"2"'


async def test_a_moved_follow_up_is_the_same_calendar_event_changed(client, factory):
    """Her calendar feed (GET /calendar/{token}.ics) shows the follow-up at its new time as
    the same event (its UID) with a higher SEQUENCE, which calendars take as the newer."""
    from icalendar import Calendar

    w = await note_world(factory)
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.clinician),
        json={"due_at": _at(24), "description": "Review", "assignee_id": w.specialist.id},
    )
    fu = r.json()
    r = await client.post(f"{API}/me/calendar-token", headers=factory.headers(w.specialist))
    feed = r.json()["feed_path"]

    async def event() -> tuple[str, int, str]:
        [ev] = Calendar.from_ical((await client.get(feed)).content).walk("VEVENT")
        return str(ev["UID"]), int(ev["SEQUENCE"]), ev.decoded("DTSTART").isoformat()

    uid, first, _ = await event()
    later = (utcnow() + timedelta(days=4)).replace(microsecond=0)
    r = await client.patch(
        f"{API}/follow-ups/{fu['id']}",
        json={"due_at": later.isoformat()},
        headers=factory.headers(w.clinician),
    )
    assert r.status_code == 200, r.text
    assert await event() == (uid, first + 1, later.isoformat())


async def test_the_record_tells_each_move_and_the_figures_keep_one_moved_when_late(
    client, factory, clock
):
    """The case's record showed the plan only as it stood, and the programme's figures
    counted a follow-up by its current due time: one moved after it fell due (the patient
    did not come) left "overdue" and the period it was late in. Now each move is in the
    record, and the figures count one moved once it was due, by the due time it had then."""
    w = await note_world(factory)
    fu = await _planned(client, factory, w, hours=24)
    url = f"{API}/follow-ups/{fu['id']}"
    first_due = fu["due_at"]

    # Moved while still ahead: a new day asked for, not late.
    r = await client.patch(
        url, json={"due_at": _at(48)}, headers={**factory.headers(w.clinician), "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    second_due = r.json()["due_at"]
    # The patient did not come: three days past that, it is planned again, and handed on.
    clock.advance(timedelta(hours=48 + 72))
    before = await client.get(f"{API}/metrics/quality", headers=factory.headers(w.clinician))
    assert before.json()["follow_ups"]["overdue"] == 1
    r = await client.patch(
        url,
        json={"due_at": _at(24), "assignee_id": w.specialist.id},
        headers={**factory.headers(w.specialist), "If-Match": '"2"'},
    )
    assert r.status_code == 200, r.text
    third_due = r.json()["due_at"]

    record = await client.get(
        f"{API}/cases/{w.case.id}/record", headers=factory.headers(w.clinician)
    )
    moves = [e for e in record.json()["entries"] if e["type"] == "follow_up_moved"]
    assert [
        (m["from_due_at"], m["due_at"], m["from_assignee_id"], m["assignee_id"], m["after_due"])
        for m in moves
    ] == [
        (first_due, second_due, w.clinician.id, w.clinician.id, False),
        (second_due, third_due, w.clinician.id, w.specialist.id, True),
    ]
    assert [m["by_id"] for m in moves] == [w.clinician.id, w.specialist.id]
    assert all(m["id"] == fu["id"] for m in moves)
    # The entry of its planning says the plan as it was made; the moves say the rest.
    planned = next(e for e in record.json()["entries"] if e["type"] == "follow_up")
    assert (planned["due_at"], planned["assignee_id"]) == (first_due, w.clinician.id)

    # No longer overdue by its new time, but still seen as late by the plan it had; a
    # period that ends before that due time does not see the late move, one around it does.
    h = factory.headers(w.clinician)
    figures = (await client.get(f"{API}/metrics/quality", headers=h)).json()["follow_ups"]
    assert figures["overdue"] == 0 and figures["moved_after_due"] == 1
    around = {"from": first_due, "to": _at(-24)}
    assert (await client.get(f"{API}/metrics/quality", params=around, headers=h)).json()[
        "follow_ups"
    ]["moved_after_due"] == 1
    early = {"from": first_due, "to": second_due}
    assert (await client.get(f"{API}/metrics/quality", params=early, headers=h)).json()[
        "follow_ups"
    ]["moved_after_due"] == 0


async def test_a_handover_a_quick_correction_and_a_cancelled_one_are_not_late_moves(
    client, factory, clock
):
    """Only a new due time given once the one it had was past counts: handing a late
    follow-up on keeps its time (it stays overdue, counted so); "today at 9:00" typed at
    9:40 and corrected at once was never a plan that fell due; a cancelled one is left out,
    as from `due`."""
    w = await note_world(factory)
    h = factory.headers(w.specialist)

    def patch(fu: dict, version: int, **body):
        return client.patch(
            f"{API}/follow-ups/{fu['id']}", json=body, headers={**h, "If-Match": f'"{version}"'}
        )

    handed = await _planned(client, factory, w, hours=1)
    slip = await _planned(client, factory, w, hours=-0.5)  # within the planning grace
    r = await patch(slip, 1, due_at=_at(24))
    assert r.status_code == 200, r.text
    dropped = await _planned(client, factory, w, hours=2)
    clock.advance(timedelta(hours=3))
    r = await patch(handed, 1, assignee_id=w.specialist.id)
    assert r.status_code == 200, r.text
    r = await patch(dropped, 1, due_at=_at(24))
    assert r.status_code == 200, r.text
    r = await patch(dropped, 2, status="cancelled")
    assert r.status_code == 200, r.text

    record = await client.get(f"{API}/cases/{w.case.id}/record", headers=h)
    late = {
        e["id"]: e["after_due"] for e in record.json()["entries"] if e["type"] == "follow_up_moved"
    }
    assert late == {handed["id"]: True, slip["id"]: False, dropped["id"]: True}
    figures = await client.get(f"{API}/metrics/quality", headers=factory.headers(w.clinician))
    counts = figures.json()["follow_ups"]
    assert counts["moved_after_due"] == 0
    assert counts["overdue"] == 1  # the one handed on, by the time it kept


async def test_handed_on_when_late_then_given_a_new_day_still_counts_late(client, factory, clock):
    """Two changes, one after the other: handed on once late (its time kept), then given a
    new day. The second is still a move of a late follow-up: the handover did not plan it
    afresh."""
    w = await note_world(factory)
    fu = await _planned(client, factory, w, hours=1)
    clock.advance(timedelta(hours=2))
    h = factory.headers(w.specialist)
    url = f"{API}/follow-ups/{fu['id']}"
    r = await client.patch(
        url, json={"assignee_id": w.specialist.id}, headers={**h, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    r = await client.patch(url, json={"due_at": _at(24)}, headers={**h, "If-Match": '"2"'})
    assert r.status_code == 200, r.text
    record = await client.get(f"{API}/cases/{w.case.id}/record", headers=h)
    late = [e["after_due"] for e in record.json()["entries"] if e["type"] == "follow_up_moved"]
    assert late == [True, True]
    figures = await client.get(f"{API}/metrics/quality", headers=factory.headers(w.clinician))
    assert figures.json()["follow_ups"]["moved_after_due"] == 1
