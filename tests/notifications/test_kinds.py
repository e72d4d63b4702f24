"""The kinds of "What is sent, to whom" not proven elsewhere, each end to end to the SMTP
server: a signed note to the referring clinician, an offer's reminder before it expires
(push and in-app by default; email when chosen), a round's reminder with its .ics."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import icalendar

from app.core.clock import utcnow
from app.core.principal import Role
from app.notifications import jobs
from app.rounds.jobs import send_reminders
from tests.notes.helpers import API, note_world, write_note
from tests.notifications.support import send_all, text_of
from tests.rounds.support import make_round


async def test_a_signed_note_reaches_the_referring_clinician_to_acknowledge(client, factory, smtp):
    w = await note_world(factory)
    note = await write_note(client, factory, w)
    h = {**factory.headers(w.specialist), "If-Match": '"1"'}
    r = await client.post(f"{API}/notes/{note['id']}/sign", headers=h)
    assert r.status_code == 200, r.text
    assert await send_all() == 1
    [mail] = smtp.to(w.clinician.email)
    assert mail["Subject"] == "A consult note was signed (Dermatology)"  # its name, not the code
    assert f"https://consult.example.org/notes/{note['id']}" in text_of(mail)
    for secret in ("contact dermatitis", "hydrocortisone", w.case.patient_reference):
        assert secret not in mail.as_string()
    assert smtp.to(w.specialist.email) == []


async def test_an_offer_is_recalled_once_when_a_quarter_of_its_time_is_left(
    client, factory, smtp, clock
):
    from tests.specialists.support import make_specialist

    org = await factory.make_org(country="KE")
    spec = await make_specialist(factory, languages=["en"])
    h = factory.headers(spec)
    r = await client.put(
        f"{API}/me/notification-preferences",
        json={"channels": {"offer": ["email"], "offer_expiring": ["email"]}},
        headers=h,
    )
    assert r.status_code == 200, r.text
    case = await factory.make_case(org.id, languages=["en"], urgency="urgent")
    coord = await factory.make_user(Role.coordinator)
    r = await client.post(
        f"{API}/cases/{case.id}/offers",
        json={"auto": False, "specialist_ids": [spec.id]},
        headers=factory.headers(coord),
    )
    assert r.status_code == 201, r.text
    [offer] = r.json()["items"]
    assert await send_all() == 1  # the offer itself
    expires = offer["expires_at"]
    from datetime import datetime

    left = datetime.fromisoformat(expires) - utcnow()
    clock.advance(left * 0.5)  # half its time left: not yet
    await jobs.offer_reminders()
    assert await send_all() == 0
    clock.advance(left * 0.3)  # a fifth left
    await jobs.offer_reminders()
    await jobs.offer_reminders()
    assert await send_all() == 1
    reminder = smtp.to(spec.email)[-1]
    assert "expires" in text_of(reminder) and offer["id"] in text_of(reminder)
    kinds = (await client.get(f"{API}/notifications", headers=h)).json()["items"]
    assert sorted(n["kind"] for n in kinds) == ["offer", "offer_expiring"]


async def test_a_round_reminder_carries_the_occurrence_as_an_ics(factory, smtp):
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist)
    tz = ZoneInfo("Africa/Nairobi")
    soon = (utcnow() + timedelta(minutes=30)).astimezone(tz)
    await make_round(
        org.id,
        timezone="Africa/Nairobi",
        rrule="FREQ=DAILY",
        starts_at_local=soon.strftime("%Y-%m-%dT%H:%M"),
        participants=[(spec.id, "specialist"), (clin.id, "local_team")],
    )
    assert await send_reminders() == 1
    assert await send_all() == 2
    for who in (spec, clin):
        [mail] = smtp.to(who.email)
        assert mail["Subject"] == "Round reminder: Dermatology rounds"
        [ics] = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
        cal = ics.get_content()
        cal = cal.decode() if isinstance(cal, bytes) else cal
        [event] = icalendar.Calendar.from_ical(cal).walk("VEVENT")
        assert event["SUMMARY"] == "Dermatology rounds"
        assert event.decoded("DTSTART") == soon.replace(second=0, microsecond=0)
