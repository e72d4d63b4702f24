"""A round's people hear of its changes (`round.updated`): an occurrence moved or cancelled,
a new schedule, the round removed, being added to a round. Each is told in their own
language and time zone, through their channels and quiet hours, and the one who made the
change is not told of it. End to end: the API, the notification rows written with the
change, the sender and a real SMTP server (aiosmtpd)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import select

from app.auth.models import User
from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from app.events.models import OutboxEvent
from tests.notifications.support import API, deliveries, send_all, text_of
from tests.rounds.support import make_round
from tests.specialists.support import make_specialist

SALTA = "America/Argentina/Salta"
TOKYO = "Asia/Tokyo"
PARIS = "Europe/Paris"
WALL = "%Y-%m-%dT%H:%M"
LINK = "https://consult.example.org/rounds/"


@dataclass
class World:
    coord: User
    local: User  # the host facility's clinician, on the local team: Spanish, Salta
    grace: User  # a volunteer specialist: English, Tokyo
    interp: User  # an interpreter: French, Paris
    round_id: str


async def _prefs(client: Any, factory: Any, user: User, **body: Any) -> None:
    r = await client.put(
        f"{API}/me/notification-preferences", json=body, headers=factory.headers(user)
    )
    assert r.status_code == 200, r.text


async def _world(client: Any, factory: Any, *, weeks_ago: int = 0, everyone: bool = True) -> World:
    org = await factory.make_org(
        name="Hospital San Bernardo", country="AR", timezone=SALTA, languages=["es"]
    )
    coord = await factory.make_user(Role.coordinator, name="Carla Coordinadora")
    local = await factory.make_user(Role.clinician, organization_id=org.id, name="Lucía Paz")
    grace = await make_specialist(factory, languages=["en"], timezone=TOKYO, name="Grace Okafor")
    interp = await factory.make_user(Role.interpreter, name="Rosa Quispe")
    await _prefs(client, factory, interp, language="fr", timezone=PARIS)
    # Weekly at 08:30 in Salta; the first meeting in three days (or weeks ago: begun).
    first = (utcnow() + timedelta(days=3 - 7 * weeks_ago)).astimezone(ZoneInfo(SALTA))
    people = [(local.id, "local_team"), (grace.id, "specialist"), (interp.id, "interpreter")]
    rnd = await make_round(
        org.id,
        title="Puna rounds",
        timezone=SALTA,
        rrule="FREQ=WEEKLY",
        starts_at_local=first.strftime("%Y-%m-%dT08:30"),
        participants=people if everyone else [(interp.id, "interpreter")],
    )
    return World(coord, local, grace, interp, rnd.id)


def said(instant: datetime, zone: str, language: str) -> tuple[str, str]:
    """How a reader in `zone` sees `instant`: its day in her language, its wall time."""
    local = instant.astimezone(ZoneInfo(zone))
    return format_date(local, "full", locale=language), f"{local:%H:%M}"


def assert_says(text: str, instant: datetime, zone: str, language: str) -> None:
    day, time = said(instant, zone, language)
    assert f"{day}, {time}" in text, (day, time, text)


async def coming(client: Any, factory: Any, w: World, round_id: str | None = None) -> list[Any]:
    r = await client.get(
        f"{API}/rounds/{round_id or w.round_id}/occurrences", headers=factory.headers(w.coord)
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def kinds(client: Any, factory: Any, user: User) -> list[str]:
    r = await client.get(f"{API}/notifications", headers=factory.headers(user))
    assert r.status_code == 200, r.text
    return sorted(n["kind"] for n in r.json()["items"])


async def test_a_moved_meeting_reaches_each_participant_in_their_zone_but_not_the_mover(
    client, factory, smtp
):
    w = await _world(client, factory)
    occ = (await coming(client, factory, w))[1]
    was = datetime.fromisoformat(occ["start"])
    to = (was + timedelta(days=1)).astimezone(ZoneInfo(SALTA)).replace(hour=10, minute=0)
    # The host's clinician moves it; she is on the local team herself.
    r = await client.patch(
        f"{API}/rounds/{w.round_id}/occurrences/{occ['start']}",
        json={"starts_at_local": to.strftime(WALL), "reason": "Grace is travelling"},
        headers=factory.headers(w.local),
    )
    assert r.status_code == 200, r.text
    assert await send_all() == 2
    assert smtp.to(w.local.email) == [] and smtp.to(w.coord.email) == []
    assert await kinds(client, factory, w.local) == []

    [en] = smtp.to(w.grace.email)
    assert en["Subject"].strip().startswith("Round moved: Puna rounds")
    text = text_of(en)
    assert_says(text, was, TOKYO, "en")
    assert_says(text, to, TOKYO, "en")
    assert TOKYO in text and LINK + w.round_id in text
    # The reason is free text: said to be on the round's page, not quoted.
    assert "Grace is travelling" not in text and "A reason was given" in text
    assert "08:30" not in text  # the host's wall time is not hers

    [fr] = smtp.to(w.interp.email)
    assert fr["Subject"].strip().startswith("Séance déplacée : Puna rounds")
    text = text_of(fr)
    assert_says(text, was, PARIS, "fr")
    assert_says(text, to, PARIS, "fr")
    assert "Grace is travelling" not in text and "Un motif a été indiqué" in text
    assert await kinds(client, factory, w.grace) == ["round_changed"]


async def test_a_cancelled_meeting_with_its_reason_waits_for_quiet_hours_and_preferences(
    client, factory, smtp, clock
):
    w = await _world(client, factory)
    # Grace is in her quiet hours (her own zone); the interpreter wants it in the console only.
    now = utcnow().astimezone(ZoneInfo(TOKYO))
    quiet = {
        "start": f"{now - timedelta(hours=1):%H:%M}",
        "end": f"{now + timedelta(hours=6):%H:%M}",
    }
    await _prefs(client, factory, w.grace, quiet_hours=quiet)
    await _prefs(client, factory, w.interp, channels={"round_changed": ["in_app"]})
    occ = (await coming(client, factory, w))[0]
    start = datetime.fromisoformat(occ["start"])
    r = await client.post(
        f"{API}/rounds/{w.round_id}/occurrences/{occ['start']}/cancel",
        json={"reason": "Feriado provincial"},
        headers=factory.headers(w.coord),
    )
    assert r.status_code == 200, r.text

    assert await send_all() == 1  # only the local team's email goes now
    [es] = smtp.to(w.local.email)
    assert es["Subject"].strip().startswith("Sesión cancelada: Puna rounds")
    text = text_of(es)
    assert_says(text, start, SALTA, "es")
    assert "08:30" in text and "Se indicó un motivo" in text and "Feriado" not in text
    assert smtp.to(w.interp.email) == []
    assert await kinds(client, factory, w.interp) == ["round_changed"]
    assert await kinds(client, factory, w.coord) == []

    [held] = await deliveries(user_id=w.grace.id, channel="email")
    assert held.next_attempt_at.astimezone(ZoneInfo(TOKYO)).strftime("%H:%M") == quiet["end"]
    clock.set(held.next_attempt_at - timedelta(minutes=1))
    assert await send_all() == 0
    clock.set(held.next_attempt_at)
    assert await send_all() == 1
    [en] = smtp.to(w.grace.email)
    assert en["Subject"].strip().startswith("Round cancelled: Puna rounds")
    text = text_of(en)
    assert_says(text, start, TOKYO, "en")
    assert "A reason was given" in text and "Feriado" not in text


async def test_a_new_host_zone_tells_everyone_the_next_meetings_before_and_after(
    client, factory, smtp
):
    w = await _world(client, factory, weeks_ago=3)  # begun: the change splits the series
    before = await coming(client, factory, w)
    r = await client.patch(
        f"{API}/rounds/{w.round_id}",
        json={"timezone": "America/Bogota"},  # 08:30 there is two hours later than in Salta
        headers=factory.headers(w.coord),
    )
    assert r.status_code == 200, r.text
    new_id = r.json()["id"]
    assert new_id != w.round_id
    after = await coming(client, factory, w, new_id)
    old_start = datetime.fromisoformat(before[0]["start"])
    new_start = datetime.fromisoformat(after[0]["start"])
    assert new_start - old_start == timedelta(hours=2)

    assert await send_all() == 3
    for who, zone, language, subject in (
        (w.grace, TOKYO, "en", "New schedule: Puna rounds"),
        (w.local, SALTA, "es", "Nuevo horario: Puna rounds"),
        (w.interp, PARIS, "fr", "Nouvel horaire : Puna rounds"),
    ):
        [mail] = smtp.to(who.email)
        assert mail["Subject"].strip() == subject
        text = text_of(mail)
        assert_says(text, new_start, zone, language)
        assert_says(text, old_start, zone, language)
        assert "America/Bogota" in text and LINK + new_id in text
    assert smtp.to(w.coord.email) == []


async def test_a_new_time_for_a_round_not_yet_begun_is_told_too(client, factory, smtp):
    w = await _world(client, factory)  # first meeting in three days: edited in place
    first = datetime.fromisoformat((await coming(client, factory, w))[0]["start"])
    later = first.astimezone(ZoneInfo(SALTA)).replace(hour=17, minute=0)
    r = await client.patch(
        f"{API}/rounds/{w.round_id}",
        json={"starts_at_local": later.strftime(WALL)},
        headers=factory.headers(w.coord),
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == w.round_id
    assert await send_all() == 3
    [en] = smtp.to(w.grace.email)
    assert en["Subject"].strip() == "New schedule: Puna rounds"
    assert_says(text_of(en), later, TOKYO, "en")


async def test_a_new_title_alone_tells_nobody_and_the_next_real_change_does(client, factory, smtp):
    w = await _world(client, factory, weeks_ago=3)
    r = await client.patch(
        f"{API}/rounds/{w.round_id}",
        json={"title": "Puna infectious disease rounds", "teaching_topic": "Chagas"},
        headers=factory.headers(w.coord),
    )
    assert r.status_code == 200, r.text
    # From a date on (the series is split), but the meetings stay where they were.
    r = await client.patch(
        f"{API}/rounds/{w.round_id}",
        json={"title": "Puna ID rounds", "effective_from": utcnow().isoformat()},
        headers=factory.headers(w.coord),
    )
    assert r.status_code == 200, r.text
    new_id = r.json()["id"]
    assert new_id != w.round_id
    assert await send_all() == 0 and smtp.messages == []
    for who in (w.local, w.grace, w.interp):
        assert await kinds(client, factory, who) == []
    # A meeting cancelled afterwards is news again, under the round's new name.
    occ = (await coming(client, factory, w, new_id))[0]
    r = await client.post(
        f"{API}/rounds/{new_id}/occurrences/{occ['start']}/cancel",
        headers=factory.headers(w.coord),
    )
    assert r.status_code == 200, r.text
    assert await send_all() == 3
    [en] = smtp.to(w.grace.email)
    assert en["Subject"].strip().startswith("Round cancelled: Puna ID rounds")
    assert "reason" not in text_of(en)  # none was given


async def test_a_round_removed_tells_its_people_it_will_not_meet_again(client, factory, smtp):
    w = await _world(client, factory)
    first = datetime.fromisoformat((await coming(client, factory, w))[0]["start"])
    r = await client.delete(f"{API}/rounds/{w.round_id}", headers=factory.headers(w.coord))
    assert r.status_code == 204, r.text
    assert await send_all() == 3
    [es] = smtp.to(w.local.email)
    assert es["Subject"].strip() == "Sesión clínica suprimida: Puna rounds"
    assert_says(text_of(es), first, SALTA, "es")


async def test_someone_added_to_a_round_is_told_when_it_next_meets_in_her_zone(
    client, factory, smtp
):
    w = await _world(client, factory, everyone=False)  # only the interpreter so far
    first = datetime.fromisoformat((await coming(client, factory, w))[0]["start"])
    for who, role in ((w.grace, "specialist"), (w.local, "local_team")):
        r = await client.post(
            f"{API}/rounds/{w.round_id}/participants",
            json={"user_id": who.id, "role": role},
            headers=factory.headers(w.coord),
        )
        assert r.status_code == 201, r.text
    async with sessionmaker()() as s:
        added = (
            await s.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.type == "round.updated", OutboxEvent.resource_id == w.round_id)
                .order_by(OutboxEvent.id)
            )
        ).all()
    assert [(e.payload["change"], e.payload["user_id"]) for e in added] == [
        ("participant_added", w.grace.id),
        ("participant_added", w.local.id),
    ]

    assert await send_all() == 2
    assert smtp.to(w.interp.email) == [] and smtp.to(w.coord.email) == []
    [en] = smtp.to(w.grace.email)
    assert en["Subject"].strip() == "You were added to a round: Puna rounds"
    text = text_of(en)
    assert "Carla Coordinadora added you to Puna rounds" in text
    assert "Hospital San Bernardo" in text and "as a specialist" in text
    assert_says(text, first, TOKYO, "en")
    [es] = smtp.to(w.local.email)
    assert es["Subject"].strip() == "Se le añadió a una sesión clínica: Puna rounds"
    text = text_of(es)
    assert "como miembro del equipo local" in text
    assert_says(text, first, SALTA, "es")
    assert await kinds(client, factory, w.grace) == ["round_added"]


async def test_a_clinician_who_adds_herself_is_not_told_but_the_one_she_adds_is(
    client, factory, smtp
):
    w = await _world(client, factory, everyone=False)
    for who, role in ((w.local, "local_team"), (w.grace, "specialist")):
        r = await client.post(
            f"{API}/rounds/{w.round_id}/participants",
            json={"user_id": who.id, "role": role},
            headers=factory.headers(w.local),
        )
        assert r.status_code == 201, r.text
    assert await send_all() == 1
    assert smtp.to(w.local.email) == []
    assert await kinds(client, factory, w.local) == []
    [en] = smtp.to(w.grace.email)
    assert "Lucía Paz added you to Puna rounds" in text_of(en)


async def test_whoever_edits_or_removes_a_round_not_yet_begun_is_not_told_of_it(
    client, factory, smtp
):
    """An edit in place and a removal carry who made them, as a move or a split does: the
    host's clinician who changes her own round hears only of others' changes."""
    w = await _world(client, factory)
    first = datetime.fromisoformat((await coming(client, factory, w))[0]["start"])
    later = first.astimezone(ZoneInfo(SALTA)).replace(hour=17, minute=0)
    r = await client.patch(
        f"{API}/rounds/{w.round_id}",
        json={"starts_at_local": later.strftime(WALL)},
        headers=factory.headers(w.local),
    )
    assert r.status_code == 200, r.text
    assert await send_all() == 2
    assert smtp.to(w.local.email) == [] and await kinds(client, factory, w.local) == []
    assert len(smtp.to(w.grace.email)) == 1 and len(smtp.to(w.interp.email)) == 1

    r = await client.delete(f"{API}/rounds/{w.round_id}", headers=factory.headers(w.local))
    assert r.status_code == 204, r.text
    assert await send_all() == 2
    assert smtp.to(w.local.email) == [] and await kinds(client, factory, w.local) == []
    [*_, removed] = smtp.to(w.grace.email)
    assert removed["Subject"].strip() == "Round called off: Puna rounds"


async def test_a_meeting_only_lengthened_is_told_as_such_and_one_left_where_it_was_not_at_all(
    client, factory, smtp
):
    """ "Back at its scheduled time" is said only of a meeting that had been moved: a meeting
    only made longer is told as moved to its new span, and a "move" to where it already
    was tells nobody."""
    w = await _world(client, factory)
    occ = (await coming(client, factory, w))[1]
    at = datetime.fromisoformat(occ["start"])
    base = f"{API}/rounds/{w.round_id}/occurrences/{occ['start']}"
    here = at.astimezone(ZoneInfo(SALTA)).strftime(WALL)
    r = await client.patch(base, json={"starts_at_local": here}, headers=factory.headers(w.coord))
    assert r.status_code == 200, r.text
    assert await send_all() == 0 and smtp.messages == []

    r = await client.patch(
        base,
        json={"starts_at_local": here, "duration_minutes": 90},
        headers=factory.headers(w.coord),
    )
    assert r.status_code == 200, r.text
    assert await send_all() == 3
    text = text_of(smtp.to(w.grace.email)[0])
    assert "is moved to" in text and "back at its scheduled time" not in text, text
    day, _ = said(at, TOKYO, "en")
    end = (at + timedelta(minutes=90)).astimezone(ZoneInfo(TOKYO))
    assert day in text and f"{end:%H:%M}" in text, text

    # Put back as scheduled: now it is "back".
    r = await client.patch(
        base,
        json={"starts_at_local": here, "duration_minutes": 60},
        headers=factory.headers(w.coord),
    )
    assert r.status_code == 200, r.text
    assert await send_all() == 3
    assert "back at its scheduled time" in text_of(smtp.to(w.grace.email)[-1])


async def test_someone_taken_off_a_round_is_told_and_no_one_else(client, factory, smtp):
    w = await _world(client, factory)
    r = await client.delete(
        f"{API}/rounds/{w.round_id}/participants/{w.grace.id}", headers=factory.headers(w.coord)
    )
    assert r.status_code == 204, r.text
    assert await send_all() == 1
    [en] = smtp.to(w.grace.email)
    assert en["Subject"].strip() == "Taken off a round: Puna rounds"
    text = text_of(en)
    assert "You were taken off Puna rounds (Hospital San Bernardo)" in text
    assert "no longer include you" in text
    assert "time zone" not in text  # it gives no time
    for stays in (w.local, w.interp, w.coord):
        assert smtp.to(stays.email) == []
    r = await client.get(f"{API}/notifications", headers=factory.headers(w.grace))
    [told] = r.json()["items"]
    assert told["kind"] == "round_changed"
    assert told["subject"] == "Taken off a round: Puna rounds"
    assert told["link"].endswith("/rounds")  # she can no longer open the round itself
    # The host's clinician taking herself off the local team is not told of it.
    r = await client.delete(
        f"{API}/rounds/{w.round_id}/participants/{w.local.id}", headers=factory.headers(w.local)
    )
    assert r.status_code == 204, r.text
    assert await send_all() == 0
    assert await kinds(client, factory, w.local) == []
    r = await client.delete(
        f"{API}/rounds/{w.round_id}/participants/{w.interp.id}", headers=factory.headers(w.coord)
    )
    assert r.status_code == 204, r.text
    assert await send_all() == 1
    [fr] = smtp.to(w.interp.email)
    assert fr["Subject"].strip() == "Retiré(e) d'un staff : Puna rounds"
