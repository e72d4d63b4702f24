"""Local attendance at rounds is one of the programme's outcomes: an occurrence that was
held counts once, on the day it was held, and a mistake in its record can be put right."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.db import sessionmaker
from app.events.models import OutboxEvent
from app.rounds.models import RoundAttendance, RoundOccurrenceException
from tests.rounds.support import API, held_for_weeks

Z = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture
async def setting(factory):
    # Wednesdays 14:00 in Nairobi (11:00 UTC), for seven weeks or more: weeks of them have
    # passed.
    return await held_for_weeks(factory, "Mwangaza Health Centre", "Africa/Nairobi", 2, "14:00", 7)


async def _held(client, factory, coord, org, start, end):
    r = await client.get(
        f"{API}/metrics/quality",
        headers=factory.headers(coord),
        params={"organization_id": org.id, "from": start.isoformat(), "to": end.isoformat()},
    )
    assert r.status_code == 200, r.text
    return r.json()["rounds"]


async def test_an_occurrence_held_cannot_be_cancelled_afterwards(client, factory, setting):
    """Cancelled after it was held, it kept counting as held, and its attendance could no
    longer be corrected (409 occurrence-cancelled): the figure was stuck."""
    org, clin, coord, rnd = setting
    held = rnd.starts_at + timedelta(weeks=2)
    occ = f"{API}/rounds/{rnd.id}/occurrences/{held.strftime(Z)}"
    h = factory.headers(coord)
    r = await client.post(
        f"{occ}/attendance", headers=h, json={"user_id": clin.id, "attended": True}
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{occ}/cancel", headers=h, json={"reason": "clicked by mistake"})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/occurrence-held")
    week = (held - timedelta(days=1), held + timedelta(days=1))
    assert await _held(client, factory, coord, org, *week) == {
        "occurrences_held": 1,
        "local_attendees_per_occurrence": 1.0,
    }
    # Recorded by mistake: corrected, it was not held, and then it may be cancelled.
    r = await client.post(
        f"{occ}/attendance", headers=h, json={"user_id": clin.id, "attended": False}
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"{occ}/cancel", headers=h, json={"reason": "the link was down"})
    assert r.status_code == 200, r.text
    assert (await _held(client, factory, coord, org, *week))["occurrences_held"] == 0


async def test_a_cancelled_occurrence_is_not_counted_even_with_attendance_on_file(
    client, factory, setting
):
    """Attendance written before an occurrence was cancelled (as the service allowed until
    now) is not a round held."""
    org, clin, coord, rnd = setting
    held = rnd.starts_at + timedelta(weeks=3)
    async with sessionmaker()() as s:
        s.add(
            RoundAttendance(
                series_id=rnd.id, occurrence_start=held, user_id=clin.id, attended=True, local=True
            )
        )
        s.add(RoundOccurrenceException(series_id=rnd.id, occurrence_start=held, cancelled=True))
        await s.commit()
    week = (held - timedelta(days=1), held + timedelta(days=1))
    assert (await _held(client, factory, coord, org, *week))["occurrences_held"] == 0


async def test_a_moved_occurrence_counts_on_the_day_it_was_held(client, factory, setting):
    """Brought forward five days, it counted on the day it had been scheduled, so a round
    moved across a month's end was reported in the wrong month."""
    org, clin, coord, rnd = setting
    scheduled = rnd.starts_at + timedelta(weeks=4)  # a Wednesday past, 11:00 UTC
    moved_to = scheduled - timedelta(days=5)  # the Friday before, 14:00 in Nairobi
    occ = f"{API}/rounds/{rnd.id}/occurrences/{scheduled.strftime(Z)}"
    h = factory.headers(coord)
    local = (moved_to + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    r = await client.patch(occ, headers=h, json={"starts_at_local": local})
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{occ}/attendance", headers=h, json={"user_id": clin.id, "attended": True}
    )
    assert r.status_code == 201, r.text
    held_days = (moved_to - timedelta(days=1), moved_to + timedelta(days=1))
    scheduled_days = (scheduled - timedelta(days=1), scheduled + timedelta(days=1))
    assert (await _held(client, factory, coord, org, *held_days))["occurrences_held"] == 1
    assert (await _held(client, factory, coord, org, *scheduled_days))["occurrences_held"] == 0


async def test_moving_an_occurrence_where_it_already_is_tells_nobody_again(
    client, factory, setting
):
    """A retried or double-clicked move told every participant twice."""
    org, clin, coord, rnd = setting
    later = rnd.starts_at + timedelta(weeks=10)  # still to come
    occ = f"{API}/rounds/{rnd.id}/occurrences/{later.strftime(Z)}"
    h = factory.headers(coord)
    # Two days earlier, at noon in Nairobi.
    day = (later + timedelta(hours=3) - timedelta(days=2)).date()
    body = {"starts_at_local": f"{day.isoformat()}T12:00", "reason": "brought forward"}

    async def told() -> int:
        async with sessionmaker()() as s:
            q = select(func.count()).where(OutboxEvent.type == "round.updated")
            return int(await s.scalar(q) or 0)

    r = await client.patch(occ, headers=h, json=body)
    assert r.status_code == 200, r.text
    first, after_first = r.json(), await told()
    assert after_first == 1
    r = await client.patch(occ, headers=h, json=body)
    assert r.status_code == 200, r.text
    assert r.json() == first and await told() == after_first
