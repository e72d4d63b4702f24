"""What a calendar app shows of occurrences changed one by one: a longer session at its usual
time, and a moved one where people join it. Before, an occurrence only lengthened (its
start unchanged) was left out of the iCalendar, so every calendar kept the series' hour,
and a moved occurrence carried no LOCATION (where the series said where to join)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from app.core.clock import utcnow
from app.core.principal import Role
from tests.rounds.support import API, make_round

Z = "%Y-%m-%dT%H:%M:%SZ"
NY = ZoneInfo("America/New_York")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall time in New York, in UTC."""
    return datetime.combine(day, time(hour, minute), NY).astimezone(UTC)


async def test_a_lengthened_and_a_moved_occurrence_in_the_ics(client, factory):
    org = await factory.make_org(
        name="Bronx Free Clinic", country="US", timezone="America/New_York"
    )
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clin)
    # Tuesdays 09:00 in New York, from a Tuesday five weeks or more before the tests' now.
    today = utcnow().date()
    first = today - timedelta(days=(today.weekday() - 1) % 7 + 5 * 7)
    longer_day, moved_day = first + timedelta(weeks=3), first + timedelta(weeks=4)
    rnd = await make_round(org.id, starts_at_local=f"{first.isoformat()}T09:00")
    base = f"{API}/rounds/{rnd.id}/occurrences"
    # Ninety minutes instead of sixty, at its usual time: three cases to discuss.
    r = await client.patch(
        f"{base}/{_at(longer_day, 9).strftime(Z)}",
        headers=h,
        json={"starts_at_local": f"{longer_day.isoformat()}T09:00", "duration_minutes": 90},
    )
    assert r.status_code == 200, r.text
    assert r.json()["end"] == _at(longer_day, 10, 30).strftime(Z)
    moved_to = moved_day + timedelta(days=2)
    r = await client.patch(
        f"{base}/{_at(moved_day, 9).strftime(Z)}",
        headers=h,
        json={"starts_at_local": f"{moved_to.isoformat()}T10:30"},
    )
    assert r.status_code == 200, r.text

    r = await client.get(f"{API}/rounds/{rnd.id}/calendar.ics", headers=h)
    assert r.status_code == 200, r.text
    events = Calendar.from_ical(r.content).walk("VEVENT")
    master = next(e for e in events if "RRULE" in e)
    overrides = {
        e.decoded("RECURRENCE-ID").astimezone(UTC): e for e in events if "RECURRENCE-ID" in e
    }
    longer = overrides[_at(longer_day, 9)]
    assert longer.decoded("DTSTART").astimezone(UTC) == _at(longer_day, 9)
    assert longer.decoded("DURATION") == timedelta(minutes=90)
    moved = overrides[_at(moved_day, 9)]
    assert moved.decoded("DTSTART").astimezone(UTC) == _at(moved_to, 10, 30)
    assert moved.decoded("DURATION") == timedelta(hours=1)
    for e in (longer, moved):
        assert str(e["UID"]) == str(master["UID"])
        assert str(e["LOCATION"]) == str(master["LOCATION"]) == "https://meet.example.org/derm"
        assert str(e["URL"]) == "https://meet.example.org/derm"
