"""A schedule change "from the 14 December round" that moves the start earlier that day.

The console offers the coming occurrences as `effective_from` (each by its original start).
A coordinator who picks 14 December (18:00) and sets 17:00 means the 14 December round at
17:00: the new series starts that day, an hour before the instant she picked, and the old
series keeps everything before that day. A new series that would start on an earlier day,
or before an occurrence the old series keeps, still applies the change before the date she
gave, and is refused (422 on /starts_at_local).

The tests' clock is at T0 (Monday 2026-11-23, 10:00 UTC); Mondays at 18:00 in New York
(EST, UTC-5) are 23:00Z, and the series has met on 2, 9 and 16 November.
"""

from typing import Any

import pytest

from app.core.principal import Role
from tests.rounds.support import API, make_round

FOURTEENTH = "2026-12-14T23:00:00Z"  # Monday 14 December 2026, 18:00 in New York
WINDOW = {"from": "2026-11-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "include_cancelled": "true"}


@pytest.fixture
async def monday_rounds(factory):
    org = await factory.make_org(
        name="Bronx Free Clinic", country="US", timezone="America/New_York"
    )
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    rnd = await make_round(org.id, starts_at_local="2026-11-02T18:00", rrule="FREQ=WEEKLY;BYDAY=MO")
    return org, clin, rnd


async def _local(client, h, rid: str) -> list[tuple[str, bool]]:
    r = await client.get(f"{API}/rounds/{rid}/occurrences", headers=h, params=WINDOW)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return [(o["start_local"], o["cancelled"]) for o in items]


async def test_an_earlier_time_from_an_occurrence_starts_with_that_occurrence(
    client, factory, monday_rounds
):
    org, clin, rnd = monday_rounds
    h = factory.headers(clin)
    case = await factory.make_case(org.id)
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/{FOURTEENTH}/agenda",
        headers=h,
        json={"case_id": case.id, "presenter_id": clin.id},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/2026-12-21T23:00:00Z/cancel",
        headers=h,
        json={"reason": "Holiday"},
    )
    assert r.status_code == 200, r.text

    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"starts_at_local": "2026-12-14T17:00", "effective_from": FOURTEENTH},
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] != rnd.id and new["previous_series_id"] == rnd.id
    assert (new["starts_at_local"], new["starts_at"]) == (
        "2026-12-14T17:00",
        "2026-12-14T22:00:00Z",
    )
    # The old series keeps everything before 14 December, at 18:00.
    assert [s for s, _ in await _local(client, h, rnd.id)] == [
        "2026-11-02T18:00",
        "2026-11-09T18:00",
        "2026-11-16T18:00",
        "2026-11-23T18:00",
        "2026-11-30T18:00",
        "2026-12-07T18:00",
    ]
    # The new one starts with the 14 December round, at 17:00; the cancellation followed.
    assert await _local(client, h, new["id"]) == [
        ("2026-12-14T17:00", False),
        ("2026-12-21T17:00", True),
        ("2026-12-28T17:00", False),
    ]
    # The case on the 14 December agenda is on the 14 December round still.
    r = await client.get(
        f"{API}/rounds/{new['id']}/occurrences/2026-12-14T22:00:00Z/agenda", headers=h
    )
    assert [i["case_id"] for i in r.json()["items"]] == [case.id]


async def test_a_later_time_from_an_occurrence_as_before(client, factory, monday_rounds):
    _, clin, rnd = monday_rounds
    h = factory.headers(clin)
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"starts_at_local": "2026-12-14T19:00", "effective_from": FOURTEENTH},
    )
    assert r.status_code == 200, r.text
    assert r.json()["starts_at"] == "2026-12-15T00:00:00Z"


@pytest.mark.parametrize(
    ("starts_at_local", "rrule"),
    [
        ("2026-12-07T17:00", None),  # a week earlier: the old series keeps 7 December
        ("2026-12-10T17:00", "FREQ=WEEKLY;BYDAY=TH"),  # Thursdays, from the 10th
        ("2026-12-13T17:00", "FREQ=DAILY"),  # daily, from the day before
    ],
)
async def test_a_start_on_an_earlier_day_is_still_refused(
    client, factory, monday_rounds, starts_at_local, rrule
):
    _, clin, rnd = monday_rounds
    h = factory.headers(clin)
    body: dict[str, Any] = {"starts_at_local": starts_at_local, "effective_from": FOURTEENTH}
    if rrule:
        body["rrule"] = rrule
    r = await client.patch(f"{API}/rounds/{rnd.id}", headers=h, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["pointer"] == "/starts_at_local"
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    assert r.json()["next_series_id"] is None


async def test_a_start_before_an_occurrence_kept_that_day_is_still_refused(client, factory):
    """Twice a day, 08:00 and 18:00; from the 18:00 one on 14 December, the new schedule
    cannot start at 07:00 that day: the old series keeps the 08:00 one."""
    org = await factory.make_org(
        name="Bronx Free Clinic", country="US", timezone="America/New_York"
    )
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clin)
    rnd = await make_round(
        org.id, starts_at_local="2026-11-02T08:00", rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=8,18"
    )
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={
            "starts_at_local": "2026-12-14T07:00",
            "rrule": "FREQ=WEEKLY;BYDAY=MO",
            "effective_from": FOURTEENTH,
        },
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == "/starts_at_local"
    # From 17:00 that day is after the 08:00 one: the 18:00 one becomes 17:00.
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={
            "starts_at_local": "2026-12-14T17:00",
            "rrule": "FREQ=WEEKLY;BYDAY=MO",
            "effective_from": FOURTEENTH,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["starts_at"] == "2026-12-14T22:00:00Z"
    assert (await _local(client, h, rnd.id))[-2:] == [
        ("2026-12-07T18:00", False),
        ("2026-12-14T08:00", False),
    ]


async def test_an_earlier_time_today_from_now_on_is_still_refused(client, factory, monday_rounds):
    """At T0 (05:00 in New York), from now on at 04:00 today would start in the past."""
    _, clin, rnd = monday_rounds
    h = factory.headers(clin)
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"starts_at_local": "2026-11-23T04:00"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == "/starts_at_local"
    # From today's round (18:00) at 07:00 that day: later than now, so it is the change.
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"starts_at_local": "2026-11-23T07:00", "effective_from": "2026-11-23T23:00:00Z"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["starts_at"] == "2026-11-23T12:00:00Z"
