"""A specialist's double booking is refused in words a person reads: the other round by its
title and both occurrences in their hosts' wall time, not a UTC instant; the problem's type,
status and fields stay as the API contract has them."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.core.clock import utcnow
from app.core.principal import Role
from tests.rounds.support import API, make_round


def _plain(instant: str, zone: str) -> str:
    """An occurrence's start as the message says it: "Tuesday 1 December 2026, 09:00"."""
    d = datetime.fromisoformat(instant).astimezone(ZoneInfo(zone))
    return f"{d:%A} {d.day} {d:%B %Y}, {d:%H:%M}"


async def test_a_double_booking_names_the_other_round_and_the_clash(client, factory):
    org = await factory.make_org(name="Lake Mission Hospital", timezone="Africa/Nairobi")
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    spec = await factory.make_user(Role.specialist, name="Dr Ana Ruiz")
    first = (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT09:00")
    booked = await make_round(
        org.id,
        title="Tuesday dermatology",
        starts_at_local=first,
        participants=[(spec.id, "specialist")],
    )
    # 14:30 in London: 09:30 in New York, within the booked hour.
    clash = await make_round(
        org.id, timezone="Europe/London", starts_at_local=first[:11] + "14:30", title="Cardiology"
    )
    r = await client.post(
        f"{API}/rounds/{clash.id}/participants",
        headers=factory.headers(clin),
        json={"user_id": spec.id, "role": "specialist"},
    )
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"].endswith("/round-conflict")
    assert problem["title"] == "Schedule conflict" and problem["status"] == 409
    assert problem["conflicting_round_id"] == booked.id
    mine, theirs = problem["occurrence_start"], problem["conflicting_occurrence_start"]
    hour = timedelta(hours=1)  # both rounds last an hour: the two occurrences overlap
    assert abs(datetime.fromisoformat(mine) - datetime.fromisoformat(theirs)) < hour
    detail = problem["detail"]
    assert "Dr Ana Ruiz" in detail and "“Tuesday dermatology”" in detail, detail
    # Each occurrence in its host's wall time, with the zone named; no UTC instant.
    assert f"{_plain(theirs, 'America/New_York')}–" in detail, detail
    assert "(America/New_York)" in detail and "(Europe/London)" in detail, detail
    assert f"{_plain(mine, 'Europe/London')}–" in detail, detail
    assert mine not in detail and theirs not in detail and "+00:00" not in detail, detail
