"""A schedule change "from now on" loses no occurrence nobody asked to remove.

A weekly round on Sundays at 16:00 in Kathmandu (UTC+05:45: 10:15Z), which has met since
1 November. Its 13 December occurrence was moved to Monday the 14th, its 20 December one
cancelled, and a change of duration applied from 3 January carries it on in a later series
(so this one ends with 27 December: UNTIL=20261227T101500Z). On Tuesday 8 December the
coordinator changes 16:00 to 17:00 from now on:

- From the next occurrence (13 December, at 17:00), the move and the cancellation follow,
  and 27 December is still held: the end is kept by its day in the host's zone, not by the
  UTC instant of the old last start (27 December at 17:00 is after 10:15Z).
- The chain of series still reaches the 3 January series (old -> new -> later).
- A new series starting on 20 December would leave the 13 December occurrence in neither
  series: refused (422 occurrences-left-out), whatever is said about discarding; saying it
  from 20 December on (effective_from) leaves 13 December with the old series.

The tests' clock starts at T0 (Monday 2026-11-23, 10:00 UTC) and is moved to 8 December.
"""

from datetime import timedelta
from typing import Any

import pytest

from app.core.principal import Role
from tests.rounds.support import API, make_round

KTM = "Asia/Kathmandu"
THIRTEENTH = "2026-12-13T10:15:00Z"  # Sunday 13 December 2026, 16:00 in Kathmandu
TWENTIETH = "2026-12-20T10:15:00Z"
THIRD = "2027-01-03T10:15:00Z"
WINDOW = {"from": "2026-11-01T00:00:00Z", "to": "2027-02-01T00:00:00Z", "include_cancelled": "true"}


@pytest.fixture
async def kathmandu(client, factory, clock):
    org = await factory.make_org(name="Bir Hospital", country="NP", timezone=KTM)
    coord = await factory.make_user(Role.coordinator)
    h = factory.headers(coord)
    rnd = await make_round(
        org.id, timezone=KTM, starts_at_local="2026-11-01T16:00", rrule="FREQ=WEEKLY;BYDAY=SU"
    )
    r = await client.patch(
        f"{API}/rounds/{rnd.id}/occurrences/{THIRTEENTH}",
        headers=h,
        json={"starts_at_local": "2026-12-14T16:00", "reason": "Specialist travelling"},
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/{TWENTIETH}/cancel",
        headers=h,
        json={"reason": "Dashain staff meeting"},
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"duration_minutes": 90, "effective_from": THIRD},
    )
    assert r.status_code == 200, r.text
    later = r.json()
    assert later["id"] != rnd.id
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    assert "UNTIL=20261227T101500Z" in r.json()["rrule"]
    clock.advance(timedelta(days=15))  # Tuesday 8 December, 10:00 UTC: 6 December has met
    return h, rnd.id, later["id"]


async def _series(client, h, rid: str) -> dict[str, Any]:
    r = await client.get(f"{API}/rounds/{rid}", headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _shape(client, h, rid: str) -> list[tuple[str, str, bool, bool]]:
    r = await client.get(f"{API}/rounds/{rid}/occurrences", headers=h, params=WINDOW)
    assert r.status_code == 200, r.text
    return [
        (o["original_start"], o["start_local"], o["moved"], o["cancelled"])
        for o in r.json()["items"]
    ]


async def test_from_now_at_a_later_time_keeps_every_occurrence_to_the_last_day(client, kathmandu):
    h, rid, _ = kathmandu
    r = await client.patch(
        f"{API}/rounds/{rid}", headers=h, json={"starts_at_local": "2026-12-13T17:00"}
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] != rid
    # The old series keeps what has met, up to 6 December.
    assert [s for _, s, _, _ in await _shape(client, h, rid)][-1] == "2026-12-06T16:00"
    # The new one: 13 December still moved to the 14th (at the instant it was moved to),
    # 20 December still cancelled, and 27 December at 17:00.
    assert await _shape(client, h, new["id"]) == [
        ("2026-12-13T11:15:00Z", "2026-12-14T16:00", True, False),
        ("2026-12-20T11:15:00Z", "2026-12-20T17:00", False, True),
        ("2026-12-27T11:15:00Z", "2026-12-27T17:00", False, False),
    ]
    assert "UNTIL=20261227T111500Z" in new["rrule"]
    assert new["ends_at"] == "2026-12-27T12:15:00Z"


async def test_from_now_the_chain_still_reaches_the_later_series(client, kathmandu):
    h, rid, later_id = kathmandu
    r = await client.patch(
        f"{API}/rounds/{rid}", headers=h, json={"starts_at_local": "2026-12-13T17:00"}
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert (new["previous_series_id"], new["next_series_id"]) == (rid, later_id)
    assert (await _series(client, h, rid))["next_series_id"] == new["id"]
    later = await _series(client, h, later_id)
    assert later["previous_series_id"] == new["id"]
    # The later series itself is as it was: from 3 January, at 16:00 for 90 minutes.
    assert (later["starts_at_local"], later["duration_minutes"]) == ("2027-01-03T16:00", 90)


@pytest.mark.parametrize(
    "body",
    [
        # From now on, starting with the cancelled 20 December: 13 December is left out.
        {"starts_at_local": "2026-12-20T17:00"},
        {"starts_at_local": "2026-12-20T17:00", "discard_occurrence_changes": True},
        # From the 13 December occurrence, starting a week later.
        {"starts_at_local": "2026-12-20T17:00", "effective_from": THIRTEENTH},
    ],
)
async def test_a_new_series_that_would_leave_out_an_occurrence_is_refused(client, kathmandu, body):
    h, rid, later_id = kathmandu
    before = await _shape(client, h, rid)
    r = await client.patch(f"{API}/rounds/{rid}", headers=h, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/occurrences-left-out")
    assert problem["errors"][0]["pointer"] == "/starts_at_local"
    assert problem["errors"][0]["code"] == "leaves_out_occurrences"
    assert problem["left_out"] == [{"original_start": THIRTEENTH, "start": "2026-12-14T10:15:00Z"}]
    assert "Sunday 13 December 2026, 16:00 (Asia/Kathmandu)" in problem["detail"]
    # Nothing changed.
    assert await _shape(client, h, rid) == before
    assert (await _series(client, h, rid))["next_series_id"] == later_id


async def test_from_a_later_occurrence_the_old_series_keeps_the_ones_before(client, kathmandu):
    """What the refused change meant, said so: from 20 December on, at 17:00."""
    h, rid, later_id = kathmandu
    r = await client.patch(
        f"{API}/rounds/{rid}",
        headers=h,
        json={"starts_at_local": "2026-12-20T17:00", "effective_from": TWENTIETH},
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert (await _shape(client, h, rid))[-1] == (THIRTEENTH, "2026-12-14T16:00", True, False)
    assert await _shape(client, h, new["id"]) == [
        ("2026-12-20T11:15:00Z", "2026-12-20T17:00", False, True),
        ("2026-12-27T11:15:00Z", "2026-12-27T17:00", False, False),
    ]
    assert new["next_series_id"] == later_id


async def test_a_later_time_in_place_keeps_the_last_day(client, factory):
    """A series that has not met, ending with its UNTIL: edited in place, 16:00 -> 17:00."""
    org = await factory.make_org(name="Bir Hospital", country="NP", timezone=KTM)
    coord = await factory.make_user(Role.coordinator)
    h = factory.headers(coord)
    rnd = await make_round(
        org.id,
        timezone=KTM,
        starts_at_local="2026-12-06T16:00",
        rrule="FREQ=WEEKLY;BYDAY=SU;UNTIL=20261227T101500Z",
    )
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"starts_at_local": "2026-12-06T17:00"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == rnd.id
    assert "UNTIL=20261227T111500Z" in r.json()["rrule"]
    assert [s for _, s, _, _ in await _shape(client, h, rnd.id)] == [
        "2026-12-06T17:00",
        "2026-12-13T17:00",
        "2026-12-20T17:00",
        "2026-12-27T17:00",
    ]


async def test_an_end_given_anew_is_taken_as_given(client, factory):
    """A new rule with an UNTIL of its own is the end she asked for."""
    org = await factory.make_org(name="Bir Hospital", country="NP", timezone=KTM)
    coord = await factory.make_user(Role.coordinator)
    h = factory.headers(coord)
    rnd = await make_round(
        org.id,
        timezone=KTM,
        starts_at_local="2026-12-06T16:00",
        rrule="FREQ=WEEKLY;BYDAY=SU;UNTIL=20261227T101500Z",
    )
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={
            "starts_at_local": "2026-12-06T17:00",
            "rrule": "FREQ=WEEKLY;BYDAY=SU;UNTIL=20261220T120000Z",
        },
    )
    assert r.status_code == 200, r.text
    assert "UNTIL=20261220T120000Z" in r.json()["rrule"]
    assert [s for _, s, _, _ in await _shape(client, h, rnd.id)][-1] == "2026-12-20T17:00"
