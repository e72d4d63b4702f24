"""The series' iCalendar and the personal feed, parsed back with `icalendar`."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar

from app.core.clock import utcnow
from app.core.db import sessionmaker
from app.core.principal import Role
from tests.rounds.support import API, make_round

NY = ZoneInfo("America/New_York")


async def test_series_ics_has_zone_rule_exdate_and_moved_occurrence(client, factory):
    org = await factory.make_org(
        name="Bronx Free Clinic", country="US", timezone="America/New_York"
    )
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-10-20T09:00")
    base = f"{API}/rounds/{rnd.id}/occurrences"
    assert (await client.post(f"{base}/2026-11-03T14:00:00Z/cancel", headers=h)).status_code == 200
    r = await client.patch(
        f"{base}/2026-11-10T14:00:00Z", headers=h, json={"starts_at_local": "2026-11-12T10:30"}
    )
    assert r.status_code == 200
    r = await client.get(f"{API}/rounds/{rnd.id}/calendar.ics", headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    zones = [c for c in cal.walk("VTIMEZONE")]
    assert [str(z["TZID"]) for z in zones] == ["America/New_York"]
    events = cal.walk("VEVENT")
    master = next(e for e in events if "RRULE" in e)
    assert "RECURRENCE-ID" not in master
    start = master.decoded("DTSTART")
    assert start == datetime(2026, 10, 20, 9, 0, tzinfo=NY)
    assert master["DTSTART"].params["TZID"] == "America/New_York"
    assert master.decoded("DURATION") == timedelta(hours=1)
    rule = master["RRULE"].to_ical().decode()
    assert "FREQ=WEEKLY" in rule and "BYDAY=TU" in rule
    exdates = [
        d.dt
        for ex in (master["EXDATE"] if isinstance(master["EXDATE"], list) else [master["EXDATE"]])
        for d in ex.dts
    ]
    assert [d.astimezone(UTC) for d in exdates] == [datetime(2026, 11, 3, 14, 0, tzinfo=UTC)]
    moved = [e for e in events if "RECURRENCE-ID" in e]
    assert len(moved) == 1 and str(moved[0]["UID"]) == str(master["UID"])
    assert moved[0].decoded("RECURRENCE-ID").astimezone(UTC) == datetime(
        2026, 11, 10, 14, 0, tzinfo=UTC
    )
    assert moved[0].decoded("DTSTART").astimezone(UTC) == datetime(2026, 11, 12, 15, 30, tzinfo=UTC)
    # A calendar app expanding what it parsed sees 09:00 New York time on both sides of
    # the change, without the cancelled date.
    expanded = rrulestr(rule, dtstart=start).between(
        datetime(2026, 10, 19, tzinfo=NY), datetime(2026, 11, 18, tzinfo=NY)
    )
    seen = [d for d in expanded if d.astimezone(UTC) not in [x.astimezone(UTC) for x in exdates]]
    assert [d.astimezone(UTC).hour for d in seen] == [13, 13, 14, 14]
    assert all(d.hour == 9 for d in seen)


async def test_personal_feed_with_rounds_and_due_follow_ups(client, factory):
    from app.followups.models import FollowUp

    org = await factory.make_org(name="Lake Mission Hospital", timezone="Africa/Nairobi")
    other = await factory.make_org(name="Elsewhere")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist)
    taking_part = await make_round(
        org.id, title="Derm rounds", participants=[(spec.id, "specialist")]
    )
    await make_round(other.id, title="Not mine")
    case = await factory.make_case(org.id)
    async with sessionmaker()() as s:
        # The facility and specialty are the case's (the follow-ups domain copies them).
        of_case = {
            "case_id": case.id,
            "organization_id": case.organization_id,
            "specialty": case.specialty,
        }
        s.add(
            FollowUp(
                **of_case,
                due_at=utcnow() + timedelta(days=3),
                description="Recheck the rash; patient name stays out of calendars",
                assignee_id=spec.id,
            )
        )
        s.add(
            FollowUp(
                **of_case,
                due_at=utcnow() + timedelta(days=1),
                description="done one",
                assignee_id=spec.id,
                status="done",
            )
        )
        await s.commit()
    r = await client.post(f"{API}/me/calendar-token", headers=factory.headers(spec))
    assert r.status_code == 201, r.text
    token = r.json()["feed_token"]
    assert r.json()["feed_path"] == f"{API}/calendar/{token}.ics"
    r = await client.get(f"{API}/calendar/{token}.ics")  # no bearer token: the path is the key
    assert r.status_code == 200, r.text
    cal = Calendar.from_ical(r.content)
    events = cal.walk("VEVENT")
    summaries = sorted(str(e["SUMMARY"]) for e in events)
    assert summaries == ["Derm rounds", f"Follow-up due (case {case.id})"]
    assert b"patient name" not in r.content
    assert any(str(e["UID"]).startswith(taking_part.id) for e in events)
    # A clinician's feed holds the rounds their facility hosts.
    r = await client.post(f"{API}/me/calendar-token", headers=factory.headers(clin))
    r = await client.get(f"{API}/calendar/{r.json()['feed_token']}.ics")
    assert [str(e["SUMMARY"]) for e in Calendar.from_ical(r.content).walk("VEVENT")] == [
        "Derm rounds"
    ]
    # Rotating retires the old token.
    r = await client.post(f"{API}/me/calendar-token", headers=factory.headers(spec))
    fresh = r.json()["feed_token"]
    assert fresh != token
    r = await client.get(f"{API}/calendar/{token}.ics")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"{API}/calendar/{fresh}.ics")).status_code == 200


async def test_calendar_tokens_are_for_people(client, factory):
    org = await factory.make_org()
    app_client = await factory.make_client(org.id)
    r = await client.post(f"{API}/me/calendar-token", headers=factory.headers(app_client))
    assert r.status_code == 403
    r = await client.post(f"{API}/me/calendar-token")
    assert r.status_code == 401
