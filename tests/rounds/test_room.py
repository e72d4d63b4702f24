"""Participants and conflicts, the agenda and its recommendations, attendance, reminders."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.principal import Role
from app.events.models import OutboxEvent
from app.rounds.jobs import send_reminders
from app.rounds.record import record_entries
from tests.rounds.support import API, make_round


@pytest.fixture
async def host(factory):
    org = await factory.make_org(name="Lake Mission Hospital", timezone="Africa/Nairobi")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    return org, clin


async def test_booking_a_specialist_into_overlapping_rounds(client, factory, host):
    org, clin = host
    h = factory.headers(clin)
    spec = await factory.make_user(Role.specialist)
    # Tuesdays 09:00-10:00 in New York, from next week on.
    first = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT09:00")
    booked = await make_round(org.id, starts_at_local=first, participants=[(spec.id, "specialist")])
    # Tuesdays 14:30 in London: 09:30 in New York on most weeks.
    clash = await make_round(
        org.id, timezone="Europe/London", starts_at_local=first[:11] + "14:30", title="Cardiology"
    )
    # Tuesdays 11:00 in New York: no overlap.
    later = await make_round(org.id, starts_at_local=first[:11] + "11:00", title="Later")
    r = await client.post(
        f"{API}/rounds/{clash.id}/participants",
        headers=h,
        json={"user_id": spec.id, "role": "specialist"},
    )
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"].endswith("/round-conflict")
    assert problem["conflicting_round_id"] == booked.id
    r = await client.post(
        f"{API}/rounds/{later.id}/participants",
        headers=h,
        json={"user_id": spec.id, "role": "specialist"},
    )
    assert r.status_code == 201, r.text
    # The override books anyway, and says so.
    r = await client.post(
        f"{API}/rounds/{clash.id}/participants",
        headers=h,
        json={"user_id": spec.id, "role": "specialist", "allow_conflict": True},
    )
    assert r.status_code == 201, r.text
    assert r.json()["allow_conflict"] is True
    r = await client.post(
        f"{API}/rounds/{clash.id}/participants",
        headers=h,
        json={"user_id": spec.id, "role": "specialist"},
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/already-participant")


async def test_a_cancelled_overlap_is_no_conflict(client, factory, host):
    org, clin = host
    h = factory.headers(clin)
    spec = await factory.make_user(Role.specialist)
    day = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%d")
    await make_round(
        org.id,
        starts_at_local=f"{day}T09:00",
        rrule="FREQ=DAILY;COUNT=1",
        participants=[(spec.id, "specialist")],
    )
    once = await make_round(org.id, starts_at_local=f"{day}T09:30", rrule="FREQ=DAILY;COUNT=1")
    start = (
        datetime.strptime(f"{day}T09:30", "%Y-%m-%dT%H:%M")
        .replace(tzinfo=ZoneInfo("America/New_York"))
        .astimezone(UTC)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    r = await client.post(f"{API}/rounds/{once.id}/occurrences/{start}/cancel", headers=h)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{API}/rounds/{once.id}/participants",
        headers=h,
        json={"user_id": spec.id, "role": "specialist"},
    )
    assert r.status_code == 201, r.text


async def test_participant_roles_must_fit(client, factory, host):
    org, clin = host
    h = factory.headers(clin)
    rnd = await make_round(org.id)
    spec = await factory.make_user(Role.specialist)
    interp = await factory.make_user(Role.interpreter)
    for user, role, status in (
        (spec, "interpreter", 422),
        (interp, "interpreter", 201),
        (clin, "local_team", 201),
        (spec, "coach", 422),
    ):
        r = await client.post(
            f"{API}/rounds/{rnd.id}/participants",
            headers=h,
            json={"user_id": user.id, "role": role},
        )
        assert r.status_code == status, (role, r.text)


async def test_agenda_suggestions_recommendations_and_the_case_record(client, factory, db, host):
    org, clin = host
    h = factory.headers(clin)
    other = await factory.make_org(name="Elsewhere")
    spec = await factory.make_user(Role.specialist)
    interp = await factory.make_user(Role.interpreter)
    rnd = await make_round(
        org.id, participants=[(spec.id, "specialist"), (interp.id, "interpreter")]
    )
    second = (rnd.starts_at + timedelta(weeks=1)).strftime("%Y-%m-%dT%H:%M:%SZ")  # weekly
    occ = f"{API}/rounds/{rnd.id}/occurrences/{second}"
    old = await factory.make_case(org.id, specialty="dermatology", status="submitted")
    newer = await factory.make_case(org.id, specialty="dermatology", status="offered")
    unmatched = await factory.make_case(org.id, specialty="dermatology", status="unmatched")
    await factory.make_case(org.id, specialty="cardiology")
    await factory.make_case(org.id, specialty="dermatology", status="closed")
    foreign = await factory.make_case(other.id, specialty="dermatology")
    r = await client.get(f"{occ}/suggested-agenda", headers=h)
    assert r.status_code == 200, r.text
    assert [c["case_id"] for c in r.json()["items"]] == [unmatched.id, old.id, newer.id]
    r = await client.post(
        f"{occ}/agenda", headers=h, json={"case_id": unmatched.id, "presenter_id": clin.id}
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["position"] == 0 and item["occurrence_start"] == second
    r = await client.post(
        f"{occ}/agenda", headers=h, json={"case_id": old.id, "presenter_id": clin.id}
    )
    assert r.json()["position"] == 1
    # Already presented cases drop out of the suggestions.
    r = await client.get(f"{occ}/suggested-agenda", headers=h)
    assert [c["case_id"] for c in r.json()["items"]] == [newer.id]
    for body, pointer in (
        ({"case_id": foreign.id, "presenter_id": clin.id}, "/case_id"),
        ({"case_id": newer.id, "presenter_id": interp.id + "x"}, "/presenter_id"),
    ):
        r = await client.post(f"{occ}/agenda", headers=h, json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == pointer
    r = await client.post(
        f"{occ}/agenda", headers=h, json={"case_id": old.id, "presenter_id": clin.id}
    )
    assert r.status_code == 409
    # The specialist in the room records the advice; the interpreter may not.
    r = await client.patch(
        f"{occ}/agenda/{item['id']}",
        headers=factory.headers(interp),
        json={"recommendation": "Biopsy"},
    )
    assert r.status_code == 403
    r = await client.patch(
        f"{occ}/agenda/{item['id']}", headers=factory.headers(spec), json={"position": 3}
    )
    assert r.status_code == 403
    r = await client.patch(
        f"{occ}/agenda/{item['id']}",
        headers=factory.headers(spec),
        json={"recommendation": "Punch biopsy; start topical steroid."},
    )
    assert r.status_code == 200, r.text
    assert r.json()["recommended_by_id"] == spec.id
    r = await client.get(f"{occ}/agenda", headers=factory.headers(interp))
    assert [i["case_id"] for i in r.json()["items"]] == [unmatched.id, old.id]
    entries = await record_entries(db, unmatched)
    assert len(entries) == 1
    assert entries[0]["type"] == "round_recommendation"
    assert entries[0]["recommendation"] == "Punch biopsy; start topical steroid."
    assert isinstance(entries[0]["at"], datetime) and entries[0]["round_id"] == rnd.id
    assert await record_entries(db, old) == []
    await db.rollback()  # hand the connection back before the next request
    # ...and the case's record, as its facility reads it, shows it beside the notes.
    r = await client.get(f"{API}/cases/{unmatched.id}/record", headers=h)
    assert r.status_code == 200, r.text
    shown = [e for e in r.json()["entries"] if e["type"] == "round_recommendation"]
    assert [e["recommendation"] for e in shown] == ["Punch biopsy; start topical steroid."]


async def test_a_recommendation_written_from_a_stale_version_is_refused_not_lost(
    client, factory, host
):
    org, clin = host
    spec = await factory.make_user(Role.specialist)
    rnd = await make_round(org.id, participants=[(spec.id, "specialist")])
    second = (rnd.starts_at + timedelta(weeks=1)).strftime("%Y-%m-%dT%H:%M:%SZ")  # weekly
    occ = f"{API}/rounds/{rnd.id}/occurrences/{second}"
    case = await factory.make_case(org.id, specialty="dermatology", status="unmatched")
    r = await client.post(
        f"{occ}/agenda",
        headers=factory.headers(clin),
        json={"case_id": case.id, "presenter_id": clin.id},
    )
    item = r.json()
    url, seen = f"{occ}/agenda/{item['id']}", f'"{item["version"]}"'
    # The host and the specialist both read version 1 and both write.
    r = await client.patch(
        url,
        headers={**factory.headers(clin), "If-Match": seen},
        json={"recommendation": "Refer to the district hospital for biopsy."},
    )
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == f'"{item["version"] + 1}"'
    r = await client.patch(
        url,
        headers={**factory.headers(spec), "If-Match": seen},
        json={"recommendation": "Topical steroid; no biopsy."},
    )
    assert r.status_code == 412, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get(f"{occ}/agenda", headers=factory.headers(spec))
    (now,) = r.json()["items"]
    assert now["recommendation"] == "Refer to the district hospital for biopsy."
    # Read again, she writes on what is there now.
    r = await client.patch(
        url,
        headers={**factory.headers(spec), "If-Match": f'"{now["version"]}"'},
        json={"recommendation": "Agree: biopsy first."},
    )
    assert r.status_code == 200, r.text


async def test_attendance_counts_local_clinicians(client, factory, host):
    org, clin = host
    h = factory.headers(clin)
    spec = await factory.make_user(Role.specialist)
    rnd = await make_round(org.id, participants=[(spec.id, "specialist")])
    second = (rnd.starts_at + timedelta(weeks=1)).strftime("%Y-%m-%dT%H:%M:%SZ")  # weekly
    att = f"{API}/rounds/{rnd.id}/occurrences/{second}/attendance"
    r = await client.post(att, headers=h, json={"user_id": clin.id, "attended": True})
    assert r.status_code == 201, r.text
    assert r.json()["local"] is True
    r = await client.post(att, headers=h, json={"user_id": spec.id, "attended": False})
    assert r.status_code == 201 and r.json()["local"] is False
    r = await client.post(att, headers=h, json={"user_id": spec.id, "attended": True})
    assert r.status_code == 200 and r.json()["attended"] is True
    r = await client.get(att, headers=factory.headers(spec))
    assert {(a["user_id"], a["attended"], a["local"]) for a in r.json()["items"]} == {
        (clin.id, True, True),
        (spec.id, True, False),
    }
    r = await client.post(
        att, headers=factory.headers(spec), json={"user_id": spec.id, "attended": True}
    )
    assert r.status_code == 403


async def test_reminder_once_per_occurrence_to_its_participants(factory, db, host):
    org, clin = host
    spec = await factory.make_user(Role.specialist)
    tz = ZoneInfo("Africa/Nairobi")
    soon = (utcnow() + timedelta(minutes=30)).astimezone(tz)
    rnd = await make_round(
        org.id,
        timezone="Africa/Nairobi",
        rrule="FREQ=DAILY",
        starts_at_local=soon.strftime("%Y-%m-%dT%H:%M"),
        participants=[(spec.id, "specialist"), (clin.id, "local_team")],
    )
    far = (utcnow() + timedelta(hours=5)).astimezone(tz)
    await make_round(
        org.id,
        timezone="Africa/Nairobi",
        rrule="FREQ=DAILY",
        starts_at_local=far.strftime("%Y-%m-%dT%H:%M"),
    )
    assert await send_reminders() == 1
    assert await send_reminders() == 0
    events = (
        (await db.execute(select(OutboxEvent).where(OutboxEvent.type == "round.reminder")))
        .scalars()
        .all()
    )
    assert len(events) == 1
    assert events[0].resource_id == rnd.id
    assert set(events[0].audience) == {spec.id, clin.id}
    assert events[0].payload["start_local"] == soon.strftime("%Y-%m-%dT%H:%M")


async def test_attendance_waits_for_the_occurrence(client, factory, host):
    org, clin = host
    h = factory.headers(clin)
    start = (utcnow() + timedelta(days=3)).astimezone(ZoneInfo("America/New_York"))
    rnd = await make_round(
        org.id, rrule="FREQ=DAILY", starts_at_local=start.strftime("%Y-%m-%dT%H:%M")
    )
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/{rnd.starts_at.isoformat()}/attendance".replace(
            "+00:00", "Z"
        ),
        headers=h,
        json={"user_id": clin.id, "attended": True},
    )
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/occurrence-not-started")
