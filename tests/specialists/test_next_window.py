"""The directory says when each specialist is next inside one of her weekly windows and not
on time off (`next_window_start`, UTC): what a coordinator matching cases across time zones
reads for "when can she be reached". It is the same weekly-window arithmetic the candidates
use (`next_window_in_minutes`), clock changes included."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.core.clock import utcnow
from app.core.principal import Role
from tests.specialists.support import make_specialist

API = "/api/v1"
ROME, KOLKATA, NEW_YORK = "Europe/Rome", "Asia/Kolkata", "America/New_York"


def _local(at: datetime, zone: str, hhmm: str, days: int = 0) -> datetime:
    """`hhmm` on the local day of `at` (plus `days`) in `zone`, as UTC."""
    day = at.astimezone(ZoneInfo(zone)).date() + timedelta(days=days)
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def _directory(client, factory) -> dict[str, dict]:
    coord = await factory.make_user(Role.coordinator)
    r = await client.get(f"{API}/specialists", headers=factory.headers(coord))
    assert r.status_code == 200, r.text
    return {s["id"]: s for s in r.json()["items"]}


async def test_the_directory_says_when_each_one_next_opens(client, factory, clock):
    clock.freeze(utcnow().replace(second=0, microsecond=0))
    now = utcnow()  # T0: a Monday, 10:00 UTC (15:30 in Kolkata, 11:00 in Rome)
    weekdays = lambda start, end: [  # noqa: E731
        {"weekday": d, "start": start, "end": end} for d in range(7)
    ]
    in_window = await make_specialist(factory, name="Open now")
    tonight = await make_specialist(
        factory,
        name="Kolkata evening",
        timezone=KOLKATA,
        availability=[
            {
                "weekday": now.astimezone(ZoneInfo(KOLKATA)).weekday(),
                "start": "20:00",
                "end": "22:00",
            }
        ],
    )
    today = now.astimezone(ZoneInfo(ROME)).date()
    away = await make_specialist(
        factory,
        name="Away two days",
        timezone=ROME,
        availability=weekdays("08:00", "18:00"),
        time_off=[{"start": today, "end": today + timedelta(days=1)}],  # her days, both included
    )
    back_soon = await make_specialist(
        factory,
        name="Back in 90 minutes",
        time_off=[
            {"start": now - timedelta(hours=1), "end": now + timedelta(minutes=90, seconds=20)}
        ],
    )
    no_hours = await make_specialist(factory, name="No hours", availability=[])
    not_taking = await make_specialist(
        factory, name="Not taking cases", timezone=KOLKATA, availability=[], accepting=False
    )

    got = {
        sid: _at(s["next_window_start"]) for sid, s in (await _directory(client, factory)).items()
    }
    assert got[in_window.id] == now
    assert got[tonight.id] == _local(now, KOLKATA, "20:00") == now + timedelta(hours=4, minutes=30)
    assert got[away.id] == _local(now, ROME, "08:00", days=2)
    # An end with seconds: the first whole minute after it.
    assert got[back_soon.id] == now + timedelta(minutes=91)
    assert got[no_hours.id] is None and got[not_taking.id] is None

    # One specialist's own page, and who is on duty, say the same.
    coord = factory.headers(await factory.make_user(Role.coordinator))
    r = await client.get(f"{API}/specialists/{tonight.id}", headers=coord)
    assert _at(r.json()["next_window_start"]) == got[tonight.id]
    r = await client.get(f"{API}/specialists/on-duty", headers=coord)
    on_duty = {s["id"]: _at(s["next_window_start"]) for s in r.json()["items"]}
    assert on_duty == {in_window.id: now}

    # An hour later it is still the same evening window; once it opens, it is now.
    clock.advance(timedelta(hours=1))
    got = {
        sid: _at(s["next_window_start"]) for sid, s in (await _directory(client, factory)).items()
    }
    assert got[tonight.id] == _local(now, KOLKATA, "20:00")
    clock.advance(timedelta(hours=3, minutes=45))
    got = {
        sid: _at(s["next_window_start"]) for sid, s in (await _directory(client, factory)).items()
    }
    assert got[tonight.id] == utcnow()
    # Past it: the same weekday next week.
    clock.advance(timedelta(hours=2))
    got = {
        sid: _at(s["next_window_start"]) for sid, s in (await _directory(client, factory)).items()
    }
    assert got[tonight.id] == _local(now, KOLKATA, "20:00", days=7)


async def test_a_clock_change_moves_the_next_window_as_the_candidates_count_it(
    client, factory, clock
):
    """The same real minutes as the candidates' `next_window_in_minutes` across New York's
    spring change (found from the zone database, not written as a date)."""
    tz = ZoneInfo(NEW_YORK)
    offset = lambda at: at.astimezone(tz).utcoffset()  # noqa: E731
    day = utcnow()
    while not offset(day + timedelta(days=1)) > offset(day):
        day += timedelta(days=1)
    # The clocks go forward within a day after `day`: from noon that (local) day.
    noon = _local(day, NEW_YORK, "12:00")
    assert offset(noon) == offset(day)
    clock.freeze(noon)
    monday = (7 - noon.astimezone(tz).weekday()) % 7  # days to the Monday after the change
    sp = await make_specialist(
        factory,
        timezone=NEW_YORK,
        availability=[{"weekday": 0, "start": "09:00", "end": "17:00"}],
    )
    expected = _local(noon, NEW_YORK, "09:00", days=monday)
    assert expected.astimezone(tz).utcoffset() != noon.astimezone(tz).utcoffset()

    got = (await _directory(client, factory))[sp.id]
    assert _at(got["next_window_start"]) == expected

    org = await factory.make_org()
    case = await factory.make_case(org.id, respond_by=noon + timedelta(days=4))
    coord = await factory.make_user(Role.coordinator)
    r = await client.get(f"{API}/cases/{case.id}/candidates", headers=factory.headers(coord))
    (item,) = r.json()["items"]
    assert item["next_window_in_minutes"] * 60 == (expected - noon).total_seconds()
