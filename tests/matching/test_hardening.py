"""Matching, as a bad day finds it (issue 16): a specialist who leaves before the answer is
due, a clock change within the week, and offers a specialist has yet to answer."""

from datetime import UTC, datetime, timedelta

from app.core.principal import Role
from app.specialists.availability import dst_shift, minutes_until_next_window, window_span
from tests.matching.support import API
from tests.specialists.support import make_specialist
from tests.timing import T0


async def _candidates(client, factory, case_id: str, **params) -> dict:
    coord = await factory.make_user(Role.coordinator)
    r = await client.get(
        f"{API}/cases/{case_id}/candidates", params=params, headers=factory.headers(coord)
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_time_off_starting_before_the_deadline_rules_a_specialist_out(client, factory, clock):
    now = clock.now()
    org = await factory.make_org()
    case = await factory.make_case(org.id, respond_by=now + timedelta(hours=72))
    leaving = await make_specialist(
        factory,
        time_off=[{"start": now + timedelta(hours=24), "end": now + timedelta(days=14)}],
    )
    after = await make_specialist(
        factory,
        time_off=[{"start": now + timedelta(hours=80), "end": now + timedelta(days=14)}],
    )
    body = await _candidates(client, factory, case.id, explain="true")
    assert [c["specialist_id"] for c in body["items"]] == [after.id]
    assert {e["specialist_id"]: e["reasons"] for e in body["excluded"]} == {
        leaving.id: ["on_time_off"]
    }


def test_the_clock_change_is_found_within_the_week():
    # New York springs forward on the second Sunday of March, 02:00 local.
    saturday_noon = datetime(T0.year + 1, 3, 13, 17, 0, tzinfo=UTC)  # 12:00 EST
    minutes_until, moved = dst_shift(saturday_noon, "America/New_York") or (None, None)
    assert moved == 60 and minutes_until == 14 * 60  # at 07:00 UTC, Sunday
    assert dst_shift(T0, "America/New_York") is None
    assert dst_shift(saturday_noon, "UTC") is None
    # Europe falls back on the last Sunday of October: the window is an hour farther.
    friday = datetime(T0.year + 1, 10, 29, 12, 0, tzinfo=UTC)
    assert dst_shift(friday, "Europe/Madrid") == (2 * 24 * 60 - 11 * 60, -60)
    spans = [window_span(0, "09:00", "17:00")]
    mow = 4 * 24 * 60 + 14 * 60  # Friday 14:00 Madrid
    assert minutes_until_next_window(spans, mow) == 67 * 60
    assert minutes_until_next_window(spans, mow, dst_shift(friday, "Europe/Madrid")) == 68 * 60


async def test_the_next_window_counts_real_minutes_across_a_clock_change(client, factory, clock):
    saturday_noon = datetime(T0.year + 1, 3, 13, 17, 0, tzinfo=UTC)  # 12:00 EST
    clock.set(saturday_noon)
    org = await factory.make_org()
    case = await factory.make_case(org.id, respond_by=saturday_noon + timedelta(days=4))
    await make_specialist(
        factory,
        timezone="America/New_York",
        availability=[{"weekday": 0, "start": "09:00", "end": "17:00"}],
    )
    (item,) = (await _candidates(client, factory, case.id))["items"]
    # Monday 09:00 EDT is 13:00 UTC: 44 hours away, not the 45 the wall clock says.
    assert item["next_window_in_minutes"] == 44 * 60
    assert not item["available_now"]
    expected = 0.5 * (1 - 44 * 60 / (4 * 24 * 60))
    assert abs(item["parts"]["availability"] - expected) < 1e-3


async def test_offers_waiting_on_a_specialist_count_as_load(client, factory):
    org = await factory.make_org()
    busy = await make_specialist(factory, name="Has offers waiting", max_active_cases=4)
    free = await make_specialist(factory, name="Nothing waiting", max_active_cases=4)
    for _ in range(2):
        other = await factory.make_case(org.id)
        await factory.make_offer(other.id, busy.id)
    case = await factory.make_case(org.id)
    items = {c["specialist_id"]: c for c in (await _candidates(client, factory, case.id))["items"]}
    assert items[free.id]["parts"]["load"] == 1.0
    assert items[busy.id]["parts"]["load"] == 0.5  # two pending of four
    assert items[busy.id]["active_cases"] == 0  # capacity still counts assigned cases
    assert items[free.id]["score"] > items[busy.id]["score"]
    # An offer of this very case is not load on top of it.
    await factory.make_offer(case.id, free.id)
    items = {c["specialist_id"]: c for c in (await _candidates(client, factory, case.id))["items"]}
    assert items[free.id]["parts"]["load"] == 1.0
