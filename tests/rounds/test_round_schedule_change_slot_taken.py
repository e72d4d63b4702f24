"""A schedule change never leaves two occurrences of a round starting at the same instant.

A single move onto a start another occurrence has is refused (409 occurrence-slot-taken). A
schedule change re-homes each kept move to its day under the new schedule, keeping the
instant it was moved to; when the new schedule has an occurrence starting at that very
instant, the change is refused the same way, naming both in words, and nothing is saved
(`discard_occurrence_changes` does not override it: nothing would be lost, two occurrences
would clash).

The tests' clock is at T0 (Monday 2026-11-23, 10:00 UTC): a series from 1 December has not
met (edited in place), one from 3 November has (split).
"""

from typing import Any

import pytest

from app.core.principal import Role
from tests.rounds.support import API, make_round

# 18:00 on Tuesdays in New York (EST, UTC-5): 23:00Z.
WINDOW = {"from": "2026-11-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "include_cancelled": "true"}
SLOT_TAKEN = "/occurrence-slot-taken"


@pytest.fixture
async def ny(factory):
    org = await factory.make_org(name="Harlem Clinic", country="US", timezone="America/New_York")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    return org, clin


async def _occurrences(client, h, rid: str) -> list[tuple[str, str, bool, bool]]:
    r = await client.get(f"{API}/rounds/{rid}/occurrences", headers=h, params=WINDOW)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return [(o["original_start"], o["start"], o["moved"], o["cancelled"]) for o in items]


async def _move(client, h, rid: str, start: str, to_local: str) -> Any:
    return await client.patch(
        f"{API}/rounds/{rid}/occurrences/{start}",
        headers=h,
        json={"starts_at_local": to_local, "reason": "Specialist travelling"},
    )


def _is_slot_taken(r: Any) -> dict[str, Any]:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = r.json()
    assert problem["type"].endswith(SLOT_TAKEN), problem
    assert problem["status"] == 409
    return problem


async def test_a_single_move_onto_another_occurrence_is_refused_in_words(client, factory, ny):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00")
    problem = _is_slot_taken(
        await _move(client, h, rnd.id, "2026-12-08T23:00:00Z", "2026-12-15T18:00")
    )
    assert "Tuesday 15 December 2026, 18:00" in problem["detail"]
    assert problem["clashes"] == [
        {
            "original_start": "2026-12-08T23:00:00Z",
            "moved_to": "2026-12-15T23:00:00Z",
            "taken_by": "2026-12-15T23:00:00Z",
        }
    ]
    # Onto where another occurrence was moved: that one is named as taking it.
    r = await _move(client, h, rnd.id, "2026-12-22T23:00:00Z", "2026-12-17T18:00")
    assert r.status_code == 200, r.text
    problem = _is_slot_taken(
        await _move(client, h, rnd.id, "2026-12-29T23:00:00Z", "2026-12-17T18:00")
    )
    assert "Thursday 17 December 2026, 18:00" in problem["detail"]
    assert problem["clashes"][0]["taken_by"] == "2026-12-22T23:00:00Z"


async def test_a_new_rule_with_an_occurrence_where_one_was_moved_is_refused(client, factory, ny):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00")
    r = await _move(client, h, rnd.id, "2026-12-08T23:00:00Z", "2026-12-10T18:00")
    assert r.status_code == 200, r.text
    before = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    shape = await _occurrences(client, h, rnd.id)
    # Tuesdays and Thursdays: 10 December 18:00 is now an occurrence of its own, where the
    # 8 December one was moved to.
    for body in (
        {"rrule": "FREQ=WEEKLY;BYDAY=TU,TH"},
        {"rrule": "FREQ=WEEKLY;BYDAY=TU,TH", "discard_occurrence_changes": True},
    ):
        problem = _is_slot_taken(await client.patch(f"{API}/rounds/{rnd.id}", headers=h, json=body))
        assert "Tuesday 8 December 2026, 18:00" in problem["detail"]
        assert "Thursday 10 December 2026, 18:00" in problem["detail"]
        assert problem["clashes"] == [
            {
                "original_start": "2026-12-08T23:00:00Z",
                "moved_to": "2026-12-10T23:00:00Z",
                "taken_by": "2026-12-10T23:00:00Z",
            }
        ]
    # Nothing changed.
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    assert r.json()["rrule"] == "FREQ=WEEKLY;BYDAY=TU"
    assert r.headers["ETag"] == before.headers["ETag"]
    assert await _occurrences(client, h, rnd.id) == shape


async def test_a_new_wall_time_onto_a_moved_occurrence_is_refused(client, factory, ny):
    """Daily at 18:00; 8 December moved to 9 December 17:00 (22:00Z). At 17:00 daily, the
    9 December occurrence starts at 22:00Z too."""
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00", rrule="FREQ=DAILY")
    r = await _move(client, h, rnd.id, "2026-12-08T23:00:00Z", "2026-12-09T17:00")
    assert r.status_code == 200, r.text
    shape = await _occurrences(client, h, rnd.id)
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"starts_at_local": "2026-12-01T17:00"}
    )
    problem = _is_slot_taken(r)
    # The occurrence named as she knows it (by its old time), and the clash in its new time.
    assert "Tuesday 8 December 2026, 18:00" in problem["detail"]
    assert "Wednesday 9 December 2026, 17:00" in problem["detail"]
    assert [c["taken_by"] for c in problem["clashes"]] == ["2026-12-09T22:00:00Z"]
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    assert r.json()["starts_at_local"] == "2026-12-01T18:00"
    assert await _occurrences(client, h, rnd.id) == shape


async def test_a_split_onto_a_moved_occurrence_is_refused_before_anything_changes(
    client, factory, ny
):
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-11-03T18:00")  # met 3, 10, 17 Nov
    r = await _move(client, h, rnd.id, "2026-12-08T23:00:00Z", "2026-12-10T18:00")
    assert r.status_code == 200, r.text
    shape = await _occurrences(client, h, rnd.id)
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"rrule": "FREQ=WEEKLY;BYDAY=TU,TH"}
    )
    _is_slot_taken(r)
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    assert r.json()["next_series_id"] is None and r.json()["rrule"] == "FREQ=WEEKLY;BYDAY=TU"
    r = await client.get(f"{API}/rounds", headers=h)
    assert [s["id"] for s in r.json()["items"]] == [rnd.id]
    assert await _occurrences(client, h, rnd.id) == shape


async def test_a_change_that_keeps_the_move_apart_is_saved(client, factory, ny):
    """Tuesdays and Fridays: 10 December is still free, so the move is kept there."""
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00")
    r = await _move(client, h, rnd.id, "2026-12-08T23:00:00Z", "2026-12-10T18:00")
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"rrule": "FREQ=WEEKLY;BYDAY=TU,FR"}
    )
    assert r.status_code == 200, r.text
    shape = await _occurrences(client, h, rnd.id)
    assert ("2026-12-08T23:00:00Z", "2026-12-10T23:00:00Z", True, False) in shape
    starts = [s for _, s, _, _ in shape]
    assert len(starts) == len(set(starts))


async def test_a_move_the_old_series_keeps_clashes_with_the_new_one_too(client, factory, ny):
    """From 1 December on, Tuesdays and Thursdays; 24 November (before the change, so the
    old series keeps it) was moved to Thursday 10 December 18:00, where the new series now
    has an occurrence: the round would meet twice at once."""
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-11-03T18:00")
    r = await _move(client, h, rnd.id, "2026-11-24T23:00:00Z", "2026-12-10T18:00")
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"{API}/rounds/{rnd.id}",
        headers=h,
        json={"rrule": "FREQ=WEEKLY;BYDAY=TU,TH", "effective_from": "2026-12-01T23:00:00Z"},
    )
    problem = _is_slot_taken(r)
    assert "Tuesday 24 November 2026, 18:00" in problem["detail"]
    assert [c["original_start"] for c in problem["clashes"]] == ["2026-11-24T23:00:00Z"]
    r = await client.get(f"{API}/rounds/{rnd.id}", headers=h)
    assert r.json()["next_series_id"] is None


async def test_a_cancelled_move_does_not_block_a_new_schedule(client, factory, ny):
    """8 December moved to Thursday the 10th, then cancelled. Tuesdays and Thursdays: the
    10 December occurrence is the new schedule's own. A cancelled occurrence keeps no time
    (it could not be moved elsewhere first): the change is saved, the 8 December round stays
    cancelled, and 10 December is an occurrence like any other."""
    org, clin = ny
    h = factory.headers(clin)
    rnd = await make_round(org.id, starts_at_local="2026-12-01T18:00")
    r = await _move(client, h, rnd.id, "2026-12-08T23:00:00Z", "2026-12-10T18:00")
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{API}/rounds/{rnd.id}/occurrences/2026-12-08T23:00:00Z/cancel",
        headers=h,
        json={"reason": "Clinic closed"},
    )
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"{API}/rounds/{rnd.id}", headers=h, json={"rrule": "FREQ=WEEKLY;BYDAY=TU,TH"}
    )
    assert r.status_code == 200, r.text
    shown = {o[0]: o for o in await _occurrences(client, h, rnd.id)}
    assert shown["2026-12-08T23:00:00Z"][3] is True  # still cancelled, on its own day
    assert shown["2026-12-08T23:00:00Z"][1] == "2026-12-08T23:00:00Z"  # its move gone
    assert shown["2026-12-10T23:00:00Z"][2:] == (False, False)  # the new schedule's own
