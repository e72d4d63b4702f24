"""A schedule edit keeps what was done to single occurrences.

An occurrence moved (a RECURRENCE-ID) or cancelled (an EXDATE) is keyed by its original
start; when the series' wall time or zone changes, every original start changes with it. The
moves and cancellations follow their occurrence (the new schedule's occurrence on the same
day), so a coordinator who moved one and cancelled another finds them still moved and
cancelled; the agenda stays on the same day's occurrence. When the new schedule has no such
occurrence, the edit is refused (409 occurrence-changes-lost) naming what would be lost,
unless it is sent again with discard_occurrence_changes: true.

The tests' clock is at T0 (Monday 2026-11-23, 10:00 UTC): a series from 1 December has not
met (edited in place), one from 3 November has (split).
"""

from datetime import UTC, datetime
from typing import Any

import pytest
from icalendar import Calendar

from app.core.principal import Role
from tests.rounds.support import API, make_round

# 18:00 on Tuesdays in New York (EST, UTC-5): 23:00Z.
WINDOW = {"from": "2026-11-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "include_cancelled": "true"}


@pytest.fixture
async def ny(factory):
    org = await factory.make_org(
        name="Bronx Free Clinic", country="US", timezone="America/New_York"
    )
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    return org, clin


async def _occurrences(client, h, rid: str) -> list[dict[str, Any]]:
    r = await client.get(f"{API}/rounds/{rid}/occurrences", headers=h, params=WINDOW)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def _move_and_cancel(client, h, rid: str) -> None:
    """8 December moved to Thursday the 10th at 18:00; 15 December cancelled."""
    r = await client.patch(
        f"{API}/rounds/{rid}/occurrences/2026-12-08T23:00:00Z",
        headers=h,
        json={"starts_at_local": "2026-12-10T18:00", "reason": "Specialist travelling"},
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{API}/rounds/{rid}/occurrences/2026-12-15T23:00:00Z/cancel",
        headers=h,
        json={"reason": "Staff meeting"},
    )
    assert r.status_code == 200, r.text


def _shape(items: list[dict[str, Any]]) -> list[tuple[str, str, bool, bool]]:
    return [(o["original_start"], o["start_local"], o["moved"], o["cancelled"]) for o in items]


async def test_an_earlier_start_keeps_the_moved_and_cancelled_occurrences(client, factory, ny):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00")
    await _move_and_cancel(client, h, rnd.id)
    case = await factory.make_case(org.id)
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/2026-12-22T23:00:00Z/agenda",
        headers=h,
        json={"case_id": case.id, "presenter_id": clin.id},
    )
    assert r.status_code == 201, r.text

    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"starts_at_local": "2026-12-01T17:00"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == rnd.id  # it has not met: edited in place
    items = await _occurrences(client, h, rnd.id)
    assert _shape(items) == [
        ("2026-12-01T22:00:00Z", "2026-12-01T17:00", False, False),
        # Still on Thursday at 18:00, where she moved it; named by its new original start.
        ("2026-12-08T22:00:00Z", "2026-12-10T18:00", True, False),
        ("2026-12-15T22:00:00Z", "2026-12-15T17:00", False, True),
        ("2026-12-22T22:00:00Z", "2026-12-22T17:00", False, False),
        ("2026-12-29T22:00:00Z", "2026-12-29T17:00", False, False),
    ]
    assert [o["reason"] for o in items[1:3]] == ["Specialist travelling", "Staff meeting"]
    # The moved one answers to its new start, and cannot be booked over.
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences/2026-12-10T23:00:00Z/agenda", headers=h
    )
    assert r.status_code == 200, r.text
    # The agenda stays on the same day's occurrence (not the next week's).
    r = await client.get(
        f"{API}/rounds/{rnd.id}/occurrences/2026-12-22T22:00:00Z/agenda", headers=h
    )
    assert [i["case_id"] for i in r.json()["items"]] == [case.id]
    # Calendar apps are told the same: the EXDATE and RECURRENCE-ID at the new time.
    r = await client.get(f"{API}/rounds/{rnd.id}/calendar.ics", headers=h)
    events = Calendar.from_ical(r.content).walk("VEVENT")
    master = next(e for e in events if "RRULE" in e)
    ex = master["EXDATE"] if isinstance(master["EXDATE"], list) else [master["EXDATE"]]
    assert [d.dt.astimezone(UTC) for e in ex for d in e.dts] == [
        datetime(2026, 12, 15, 22, 0, tzinfo=UTC)
    ]
    [moved] = [e for e in events if "RECURRENCE-ID" in e]
    assert moved.decoded("RECURRENCE-ID").astimezone(UTC) == datetime(2026, 12, 8, 22, tzinfo=UTC)


async def test_a_new_zone_keeps_them_on_the_same_days(client, factory, ny):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00")
    await _move_and_cancel(client, h, rnd.id)
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"timezone": "America/Argentina/Salta"}
    )
    assert r.status_code == 200, r.text
    items = await _occurrences(client, h, rnd.id)
    # 18:00 in Salta (UTC-3) is 21:00Z; the move kept its instant (18:00 in New York).
    assert _shape(items)[1:3] == [
        ("2026-12-08T21:00:00Z", "2026-12-10T20:00", True, False),
        ("2026-12-15T21:00:00Z", "2026-12-15T18:00", False, True),
    ]
    assert items[1]["start"] == "2026-12-10T23:00:00Z"


async def test_a_move_back_onto_the_new_time_is_no_longer_a_move(client, factory, ny):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00")
    r = await client.patch(
        f"{API}/rounds/{rnd.id}/occurrences/2026-12-08T23:00:00Z",
        headers=h,
        json={"starts_at_local": "2026-12-08T17:00"},
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"starts_at_local": "2026-12-01T17:00"}
    )
    assert r.status_code == 200, r.text
    items = await _occurrences(client, h, rnd.id)
    assert ("2026-12-08T22:00:00Z", "2026-12-08T17:00", False, False) in _shape(items)


async def test_a_split_carries_them_to_the_new_series(client, factory, ny):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-11-03T18:00")  # met 3, 10, 17 Nov
    await _move_and_cancel(client, h, rnd.id)
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"starts_at_local": "2026-11-24T17:00"}
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] != rnd.id and new["previous_series_id"] == rnd.id
    assert _shape(await _occurrences(client, h, new["id"]))[:5] == [
        ("2026-11-24T22:00:00Z", "2026-11-24T17:00", False, False),
        ("2026-12-01T22:00:00Z", "2026-12-01T17:00", False, False),
        ("2026-12-08T22:00:00Z", "2026-12-10T18:00", True, False),
        ("2026-12-15T22:00:00Z", "2026-12-15T17:00", False, True),
        ("2026-12-22T22:00:00Z", "2026-12-22T17:00", False, False),
    ]
    # The past stays with the old series, as it was.
    assert [o["start_local"] for o in await _occurrences(client, h, rnd.id)] == [
        "2026-11-03T18:00",
        "2026-11-10T18:00",
        "2026-11-17T18:00",
    ]


async def test_a_change_that_would_lose_them_is_refused_and_names_them(client, factory, ny):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00")
    await _move_and_cancel(client, h, rnd.id)
    before = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    # Wednesdays instead of Tuesdays: 8 and 15 December are no longer occurrences.
    body = {"rrule": "FREQ=WEEKLY;BYDAY=WE"}
    r = await client.patch(f"{API}/rounds/{rnd.id}", headers=h, json=body)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/occurrence-changes-lost")
    assert problem["lost"] == [
        {
            "original_start": "2026-12-08T23:00:00Z",
            "cancelled": False,
            "moved_to": "2026-12-10T23:00:00Z",
            "reason": "Specialist travelling",
        },
        {
            "original_start": "2026-12-15T23:00:00Z",
            "cancelled": True,
            "moved_to": None,
            "reason": "Staff meeting",
        },
    ]
    assert "8 December 2026" in problem["detail"] and "15 December 2026" in problem["detail"]
    assert "discard_occurrence_changes" in problem["detail"]
    # Nothing changed.
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    assert r.json()["rrule"] == "FREQ=WEEKLY;BYDAY=TU"
    assert r.headers["ETag"] == before.headers["ETag"]
    assert [o["original_start"] for o in await _occurrences(client, h, rnd.id) if o["moved"]] == [
        "2026-12-08T23:00:00Z"
    ]
    # Knowingly: the new schedule, without them.
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={**body, "discard_occurrence_changes": True}
    )
    assert r.status_code == 200, r.text
    items = await _occurrences(client, h, rnd.id)
    assert [o["start_local"][:10] for o in items][:3] == ["2026-12-02", "2026-12-09", "2026-12-16"]
    assert not any(o["moved"] or o["cancelled"] for o in items)


async def test_a_split_that_would_lose_them_is_refused_before_anything_changes(client, factory, ny):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-11-03T18:00")
    await _move_and_cancel(client, h, rnd.id)
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"rrule": "FREQ=WEEKLY;BYDAY=WE", "starts_at_local": "2026-11-25T18:00"},
    )
    assert r.status_code == 409, r.text
    assert [x["original_start"] for x in r.json()["lost"]] == [
        "2026-12-08T23:00:00Z",
        "2026-12-15T23:00:00Z",
    ]
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    assert r.json()["next_series_id"] is None and r.json()["rrule"] == "FREQ=WEEKLY;BYDAY=TU"


async def test_a_longer_round_keeps_them_as_before(client, factory, ny):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00")
    await _move_and_cancel(client, h, rnd.id)
    r = await client.patch(f"{API}/rounds/{rnd.id}", headers=h, json={"duration_minutes": 90})
    assert r.status_code == 200, r.text
    assert _shape(await _occurrences(client, h, rnd.id))[1:3] == [
        ("2026-12-08T23:00:00Z", "2026-12-10T18:00", True, False),
        ("2026-12-15T23:00:00Z", "2026-12-15T18:00", False, True),
    ]


async def test_a_new_zone_that_puts_each_start_on_the_day_befores_old_one(client, factory, ny):
    """Daily at 18:00 in New York (23:00Z), then 08:00 in Tokyo: each occurrence's new start
    is the old start of the day before's, so the rows are re-keyed in an order in which none
    takes a key another still holds."""
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00", rrule="FREQ=DAILY")
    for day in ("05", "06", "07"):
        r = await client.post(
            f"{API}/rounds/{rnd.id}/occurrences/2026-12-{day}T23:00:00Z/cancel", headers=h
        )
        assert r.status_code == 200, r.text
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"timezone": "Asia/Tokyo", "starts_at_local": "2026-12-01T08:00"},
    )
    assert r.status_code == 200, r.text
    items = await _occurrences(client, h, rnd.id)
    assert [(o["original_start"], o["start_local"]) for o in items if o["cancelled"]] == [
        ("2026-12-04T23:00:00Z", "2026-12-05T08:00"),
        ("2026-12-05T23:00:00Z", "2026-12-06T08:00"),
        ("2026-12-06T23:00:00Z", "2026-12-07T08:00"),
    ]
