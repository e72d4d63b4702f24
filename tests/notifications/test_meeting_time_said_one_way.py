"""A meeting's time is said one way in every email: a reminder as a change notice, "Thursday,
December 3, 2026, 20:30–21:30" in the reader's language and zone, her zone named once at
the end (it used to read "2026-12-03 20:30 JST" in a reminder).

The expected days are written out from small tables here, not by the code under test;
every instant is derived from the tests' clock (T0)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.clock import utcnow
from app.core.principal import Role
from app.notifications import content
from app.rounds.jobs import send_reminders
from tests.notifications.support import send_all, text_of
from tests.rounds.support import make_round
from tests.specialists.support import make_specialist
from tests.timing import T0

LINK = "https://consult.example.org/rounds/rnd_1"
DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
MONTHS = {
    "en": "January February March April May June July August September October November "
    "December".split(),
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre".split(),
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre "
    "décembre".split(),
}


def day(d: datetime, language: str) -> str:
    name, month = DAYS[language][d.weekday()], MONTHS[language][d.month - 1]
    return {
        "en": f"{name}, {month} {d.day}, {d.year}",
        "es": f"{name}, {d.day} de {month} de {d.year}",
        "fr": f"{name} {d.day} {month} {d.year}",
    }[language]


def meeting(start: datetime, minutes: int, zone: str, language: str) -> str:
    s = start.astimezone(ZoneInfo(zone))
    e = (start + timedelta(minutes=minutes)).astimezone(ZoneInfo(zone))
    return f"{day(s, language)}, {s:%H:%M}–{e:%H:%M}"


REMINDER = {
    "en": "The next meeting of Puna rounds is on {when}. The invitation is attached.\n\n"
    "Times are in your time zone ({zone}).\n\n"
    "Open (sign-in needed): {link}\n\n"
    "You receive this because of your notification preferences.\n",
    "es": "La próxima sesión de «Puna rounds» es el {when}. La invitación va adjunta.\n\n"
    "Las horas están en su zona horaria ({zone}).\n\n"
    "Abrir (requiere iniciar sesión): {link}\n\n"
    "Recibe esto por sus preferencias de notificación.\n",
    "fr": "La prochaine séance du staff « Puna rounds » a lieu le {when}. L'invitation est "
    "jointe.\n\n"
    "Les heures sont indiquées dans votre fuseau horaire ({zone}).\n\n"
    "Ouvrir (connexion requise)\u00a0: {link}\n\n"
    "Vous recevez ceci selon vos préférences de notification.\n",
}


@pytest.mark.parametrize(
    ("language", "zone"),
    [("en", "Asia/Tokyo"), ("es", "America/Argentina/Salta"), ("fr", "Europe/Paris")],
)
def test_a_reminder_says_its_meeting_as_a_change_notice_does(language, zone):
    start = T0 + timedelta(days=10, hours=10, minutes=30)
    data = {"title": "Puna rounds", "start": start.isoformat(), "duration_minutes": 60}
    r = content.render("round_reminder", data, LINK, language, zone)
    when = meeting(start, 60, zone, language)
    assert r.text == REMINDER[language].format(when=when, zone=zone, link=LINK)
    assert (
        r.subject
        == {
            "en": "Round reminder: Puna rounds",
            "es": "Recordatorio de sesión: Puna rounds",
            "fr": "Rappel de séance : Puna rounds",
        }[language]
    )
    # The same meeting cancelled reads the same.
    notice = content.render(
        "round_changed",
        {
            "title": "Puna rounds",
            "change": "cancelled",
            "occurrence": [start.isoformat(), (start + timedelta(hours=1)).isoformat()],
        },
        LINK,
        language,
        zone,
    )
    assert when in notice.text


async def test_the_reminder_email_in_her_zone(factory, smtp):
    """End to end: a round in Nairobi reminds a specialist in Tokyo of its next meeting."""
    org = await factory.make_org()
    spec = await make_specialist(factory, languages=["en"], timezone="Asia/Tokyo")
    soon = (utcnow() + timedelta(minutes=30)).astimezone(ZoneInfo("Africa/Nairobi"))
    await make_round(
        org.id,
        title="Puna rounds",
        timezone="Africa/Nairobi",
        rrule="FREQ=DAILY",
        starts_at_local=soon.strftime("%Y-%m-%dT%H:%M"),
        participants=[(spec.id, "specialist")],
    )
    assert await send_reminders() == 1
    assert await send_all() == 1
    [mail] = smtp.to(spec.email)
    start = soon.replace(second=0, microsecond=0)
    first, zone_said, *_ = text_of(mail).replace("\r\n", "\n").split("\n\n")
    when = meeting(start, 60, "Asia/Tokyo", "en")
    assert first == f"The next meeting of Puna rounds is on {when}. The invitation is attached."
    assert zone_said == "Times are in your time zone (Asia/Tokyo)."
    assert "JST" not in text_of(mail)


def test_a_deadline_is_still_said_with_its_zone():
    """Not a meeting: an offer's deadline keeps its own form."""
    deadline = T0 + timedelta(hours=2)
    data = {"specialty": "dermatology", "urgency": "urgent", "country": "AR"}
    r = content.render("offer", data | {"deadline": deadline.isoformat()}, LINK, "en", "UTC")
    assert f"by {deadline:%Y-%m-%d %H:%M} UTC." in r.text


async def test_a_resized_meeting_is_reminded_with_its_own_length(client, factory, smtp):
    """A meeting moved and made longer (90 minutes of a 60-minute round) is reminded as it
    now is, in the text and in the invitation's end."""
    import icalendar

    org = await factory.make_org()
    spec = await make_specialist(factory, languages=["en"], timezone="Asia/Tokyo")
    coord = await factory.make_user(Role.coordinator)
    nairobi = ZoneInfo("Africa/Nairobi")
    soon = (utcnow() + timedelta(minutes=30)).astimezone(nairobi).replace(second=0, microsecond=0)
    rnd = await make_round(
        org.id,
        title="Puna rounds",
        timezone="Africa/Nairobi",
        rrule="FREQ=DAILY",
        starts_at_local=soon.strftime("%Y-%m-%dT%H:%M"),
        participants=[(spec.id, "specialist")],
    )
    later = soon + timedelta(minutes=10)
    original = soon.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = await client.patch(
        f"/api/v1/rounds/{rnd.id}/occurrences/{original}",
        json={"starts_at_local": later.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": 90},
        headers=factory.headers(coord),
    )
    assert r.status_code == 200, r.text
    await send_all()  # she is told of the move first
    smtp.messages.clear()
    assert await send_reminders() == 1
    await send_all()
    [mail] = smtp.to(spec.email)
    first = text_of(mail).replace("\r\n", "\n").split("\n\n")[0]
    assert first == (
        "The next meeting of Puna rounds is on "
        f"{meeting(later, 90, 'Asia/Tokyo', 'en')}. The invitation is attached."
    )
    [ics] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    [event] = icalendar.Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert event["dtend"].dt - event["dtstart"].dt == timedelta(minutes=90)
