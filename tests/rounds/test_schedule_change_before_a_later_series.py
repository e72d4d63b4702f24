"""A schedule change "from now on" ends where a change saved before takes over.

A weekly round on Sundays at 16:00 in Kathmandu (UTC+05:45) has met for three weeks
before T0 (Monday 2026-11-23, 10:00 UTC). A change of duration was saved from the sixth
Sunday after T0's on, which split it: old -> later. Changing it now, from now on, to 17:00
with a rule of its own (no end, a COUNT or an UNTIL that runs past the later series' start)
used to start a series that ran on past it: two meetings on the later series' days. The new
series now ends on the last day before the later series' first (in the host's zone), and
the chain still reads old -> new -> later. A change that would have no meeting before the
later series takes over is refused (422 later-series-takes-over), and nothing is saved.

Every date is derived from the tests' clock (T0), none written out.
"""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.core.principal import Role
from tests.rounds.support import API, make_round
from tests.timing import T0

KTM = "Asia/Kathmandu"
TZ = ZoneInfo(KTM)
WALL = "%Y-%m-%dT%H:%M"
SUNDAY = T0.astimezone(TZ).date() - timedelta(days=T0.astimezone(TZ).weekday() + 1)
FIRST = SUNDAY - timedelta(weeks=3)  # it has met on FIRST and the two Sundays after, and SUNDAY
NEXT = SUNDAY + timedelta(weeks=1)  # its next meeting, from now on
LATER = SUNDAY + timedelta(weeks=6)  # the later series' first day
LAST = LATER - timedelta(weeks=1)  # the last Sunday before it


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def z(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def until(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo("UTC")).strftime("UNTIL=%Y%m%dT%H%M%SZ")


WINDOW = {"from": z(at(FIRST, 0)), "to": z(at(LATER + timedelta(weeks=8), 0))}


@pytest.fixture
async def chained(client, factory):
    """The round and the later series a change of duration split off from LATER on."""
    org = await factory.make_org(name="Bir Hospital", country="NP", timezone=KTM)
    coord = await factory.make_user(Role.coordinator)
    h = factory.headers(coord)
    rnd = await make_round(
        org.id,
        timezone=KTM,
        starts_at_local=at(FIRST, 16).strftime(WALL),
        rrule="FREQ=WEEKLY;BYDAY=SU",
    )
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"duration_minutes": 90, "effective_from": z(at(LATER, 16))},
    )
    assert r.status_code == 200, r.text
    later = r.json()
    assert later["starts_at_local"] == at(LATER, 16).strftime(WALL)
    return h, rnd.id, later["id"]


async def _series(client, h, rid: str) -> dict[str, Any]:
    r = await client.get(f"{API}/rounds/{rid}", headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _starts(client, h, rid: str) -> list[str]:
    r = await client.get(f"{API}/rounds/{rid}/occurrences", headers=h, params=WINDOW)
    assert r.status_code == 200, r.text
    return [o["start_local"] for o in r.json()["items"]]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=SU",  # no end of its own
        "FREQ=WEEKLY;BYDAY=SU;COUNT=20",  # a count that runs past the later series' start
        f"FREQ=WEEKLY;BYDAY=SU;{until(at(LATER + timedelta(weeks=4), 17))}",  # so does an end
    ],
)
async def test_from_now_on_the_new_series_ends_before_the_later_one(client, chained, rule):
    h, rid, later_id = chained
    r = await client.patch(
        f"{API}/rounds/{rid}",
        headers=h,
        json={"starts_at_local": at(NEXT, 17).strftime(WALL), "rrule": rule},
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] not in (rid, later_id)
    # It ends with the last Sunday before the later series' first, at its own 17:00.
    assert until(at(LAST, 17)) in new["rrule"] and "COUNT" not in new["rrule"]
    assert new["ends_at"] == z(at(LAST, 18))
    assert (new["previous_series_id"], new["next_series_id"]) == (rid, later_id)
    # One meeting a Sunday, whichever series holds it: the old one's, the new one's at
    # 17:00, and from LATER on the later series' at 16:00.
    old, mine, theirs = [await _starts(client, h, i) for i in (rid, new["id"], later_id)]
    assert old == [at(FIRST + timedelta(weeks=k), 16).strftime(WALL) for k in range(4)]
    assert mine == [at(NEXT + timedelta(weeks=k), 17).strftime(WALL) for k in range(5)]
    assert theirs == [at(LATER + timedelta(weeks=k), 16).strftime(WALL) for k in range(8)]
    days = [s[:10] for s in old + mine + theirs]
    assert len(days) == len(set(days))


async def test_an_end_given_before_the_later_series_is_taken_as_given(client, chained):
    h, rid, later_id = chained
    rule = f"FREQ=WEEKLY;BYDAY=SU;{until(at(NEXT + timedelta(weeks=2), 17))}"
    r = await client.patch(
        f"{API}/rounds/{rid}",
        headers=h,
        json={"starts_at_local": at(NEXT, 17).strftime(WALL), "rrule": rule},
    )
    assert r.status_code == 200, r.text
    assert r.json()["rrule"] == rule
    assert r.json()["next_series_id"] == later_id


async def test_a_round_not_yet_begun_edited_in_place_ends_before_the_later_one(client, factory):
    """A series that has not met yet is edited in place; it too had been split from LATER."""
    org = await factory.make_org(name="Bir Hospital", country="NP", timezone=KTM)
    h = factory.headers(await factory.make_user(Role.coordinator))
    rnd = await make_round(
        org.id,
        timezone=KTM,
        starts_at_local=at(NEXT, 16).strftime(WALL),
        rrule="FREQ=WEEKLY;BYDAY=SU",
    )
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"duration_minutes": 90, "effective_from": z(at(LATER, 16))},
    )
    assert r.status_code == 200, r.text
    later_id = r.json()["id"]
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"starts_at_local": at(NEXT, 17).strftime(WALL), "rrule": "FREQ=WEEKLY;BYDAY=SU"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == rnd.id and r.json()["next_series_id"] == later_id
    assert until(at(LAST, 17)) in r.json()["rrule"]
    mine, theirs = [await _starts(client, h, i) for i in (rnd.id, later_id)]
    assert mine[-1] == at(LAST, 17).strftime(WALL)
    assert theirs[0] == at(LATER, 16).strftime(WALL)


async def test_a_change_with_no_meeting_before_the_later_series_is_refused(client, chained):
    """From the later series' first day, a new rule (Saturdays) would only double it."""
    h, rid, later_id = chained
    before = await _series(client, h, rid)
    r = await client.patch(
        f"{API}/rounds/{rid}",
        headers=h,
        json={"rrule": "FREQ=WEEKLY;BYDAY=SA", "effective_from": z(at(LATER, 16))},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/later-series-takes-over")
    assert problem["errors"] == [
        {
            "pointer": "/effective_from",
            "detail": "must be before the later change's start, "
            f"{LATER:%A} {LATER.day} {LATER:%B} {LATER.year}, 16:00 ({KTM})",
            "code": "after_later_change",
        }
    ]
    assert f"{LATER:%A} {LATER.day} {LATER:%B} {LATER.year}, 16:00 ({KTM})" in problem["detail"]
    # Nothing was saved: the series and the chain are as they were.
    assert await _series(client, h, rid) == before
    assert (await _series(client, h, later_id))["previous_series_id"] == rid


async def test_a_later_series_since_removed_does_not_end_the_new_one(client, chained):
    h, rid, later_id = chained
    r = await client.delete(f"{API}/rounds/{later_id}", headers=h)
    assert r.status_code == 204, r.text
    r = await client.patch(
        f"{API}/rounds/{rid}",
        headers=h,
        json={"starts_at_local": at(NEXT, 17).strftime(WALL), "rrule": "FREQ=WEEKLY;BYDAY=SU"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["rrule"] == "FREQ=WEEKLY;BYDAY=SU" and r.json()["ends_at"] is None


async def test_a_new_zone_behind_the_later_series_ends_before_it_starts(client, factory):
    """The later series meets early on Sundays in Kathmandu, which is still Saturday evening
    in Lima. Moved to Lima on Saturdays at 20:00, the new series ends before the later one
    first meets, in time, not only by the later series' own calendar day (the Saturday
    before its first Sunday would have met after it had begun)."""
    org = await factory.make_org(name="Bir Hospital", country="NP", timezone=KTM)
    h = factory.headers(await factory.make_user(Role.coordinator))
    rnd = await make_round(
        org.id,
        timezone=KTM,
        starts_at_local=at(FIRST, 4).strftime(WALL),
        rrule="FREQ=WEEKLY;BYDAY=SU",
    )
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"duration_minutes": 90, "effective_from": z(at(LATER, 4))},
    )
    assert r.status_code == 200, r.text
    later = r.json()
    lima = ZoneInfo("America/Lima")
    today = T0.astimezone(lima).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={
            "timezone": "America/Lima",
            "starts_at_local": f"{saturday:%Y-%m-%d}T20:00",
            "rrule": "FREQ=WEEKLY;BYDAY=SA",
        },
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["next_series_id"] == later["id"]
    first_later = at(LATER, 4)  # Saturday 17:15 in Lima
    r = await client.get(f"{API}/rounds/{new['id']}/occurrences", headers=h, params=WINDOW)
    starts = [datetime.fromisoformat(o["start"].replace("Z", "+00:00")) for o in r.json()["items"]]
    assert starts and max(starts) < first_later, (starts, first_later)
    last_saturday = first_later.astimezone(lima).date() - timedelta(weeks=1)
    assert max(starts) == datetime.combine(last_saturday, time(20), tzinfo=lima)
