"""A follow-up planned for someone else, or handed to her, is news to her now: before, she
heard of it only when it fell due, too late to plan the patient's visit. She is told in her
language, with a link and the due time in her zone, and never the follow-up's text; whoever
plans or hands it on for herself is not told."""

from datetime import timedelta

from app.core.clock import utcnow
from tests.notes.helpers import API, note_world
from tests.notifications.support import send_all, text_of


async def _kinds(client, factory, who) -> list[str]:
    r = await client.get(f"{API}/notifications", headers=factory.headers(who))
    assert r.status_code == 200, r.text
    return [n["kind"] for n in r.json()["items"]]


async def test_a_follow_up_planned_for_her_or_handed_to_her_is_told(client, factory, smtp):
    w = await note_world(factory)
    r = await client.put(
        f"{API}/me/notification-preferences",
        json={"language": "es", "timezone": "America/Argentina/Salta"},
        headers=factory.headers(w.clinician),
    )
    assert r.status_code == 200, r.text
    due = (utcnow() + timedelta(days=3)).replace(hour=13, minute=0, second=0, microsecond=0)
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.specialist),
        json={
            "due_at": due.isoformat(),
            "description": "Revisar la lesión del pie",
            "assignee_id": w.clinician.id,
        },
    )
    assert r.status_code == 201, r.text
    fu = r.json()

    r = await client.get(f"{API}/notifications", headers=factory.headers(w.clinician))
    [told] = r.json()["items"]
    assert told["kind"] == "followup_assigned"
    assert told["link"].endswith(f"/follow-ups/{fu['id']}")
    assert await _kinds(client, factory, w.specialist) == []  # she planned it

    assert await send_all() == 1
    [mail] = smtp.to(w.clinician.email)
    assert str(mail["Subject"]).strip() == "Un seguimiento queda a su cargo"
    body = text_of(mail)
    assert body.startswith("Se le asignó un seguimiento de una consulta; vence el")
    assert "10:00" in body  # 13:00 UTC, in Salta (UTC-3)
    for secret in ("Revisar la lesión del pie", w.case.question, w.case.patient_reference):
        assert secret not in mail.as_string()

    # Handed on to the specialist by the clinician: the specialist hears of it, once.
    r = await client.patch(
        f"{API}/follow-ups/{fu['id']}",
        json={"assignee_id": w.specialist.id},
        headers={**factory.headers(w.clinician), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert await _kinds(client, factory, w.specialist) == ["followup_assigned"]
    # A new time alone hands nothing on: nobody is told it is theirs again.
    r = await client.patch(
        f"{API}/follow-ups/{fu['id']}",
        json={"due_at": (due + timedelta(days=1)).isoformat()},
        headers={**factory.headers(w.clinician), "If-Match": '"2"'},
    )
    assert r.status_code == 200, r.text
    assert await _kinds(client, factory, w.specialist) == ["followup_assigned"]
    assert await _kinds(client, factory, w.clinician) == ["followup_assigned"]


async def test_one_planned_or_taken_on_for_herself_is_no_news(client, factory):
    w = await note_world(factory)
    due = (utcnow() + timedelta(days=2)).isoformat()
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.clinician),
        json={"due_at": due, "description": "Call the family", "assignee_id": w.clinician.id},
    )
    assert r.status_code == 201, r.text
    fu = r.json()
    # The specialist takes it on herself: nobody is told it was given to them.
    r = await client.patch(
        f"{API}/follow-ups/{fu['id']}",
        json={"assignee_id": w.specialist.id},
        headers={**factory.headers(w.specialist), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert await _kinds(client, factory, w.clinician) == []
    assert await _kinds(client, factory, w.specialist) == []


async def test_one_given_when_already_due_is_told_once_by_the_due_notice(client, factory):
    """Planned for her at 9:40 for "today 9:00": it is due already, so the due notice, sent
    at the next pass, tells her; not a second mail saying it was given to her."""
    from app.followups.jobs import followups_due

    w = await note_world(factory)
    r = await client.post(
        f"{API}/cases/{w.case.id}/follow-ups",
        headers=factory.headers(w.specialist),
        json={
            "due_at": (utcnow() - timedelta(minutes=40)).isoformat(),
            "description": "Check the dressing",
            "assignee_id": w.clinician.id,
        },
    )
    assert r.status_code == 201, r.text
    assert await _kinds(client, factory, w.clinician) == []
    await followups_due()
    assert await _kinds(client, factory, w.clinician) == ["followup_due"]
