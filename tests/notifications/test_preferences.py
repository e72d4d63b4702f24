"""Preferences per kind and channel, quiet hours in the user's own zone (across a
daylight-saving change), an emergency through quiet hours, nothing to a specialist on
time off."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.core.db import sessionmaker
from app.core.principal import Role
from app.notifications.kinds import Kind
from app.notifications.preferences import quiet_until
from app.notifications.service import notify
from tests.notifications.support import API, deliveries, send_all
from tests.specialists.support import make_specialist
from tests.timing import T0

NY = ZoneInfo("America/New_York")


def next_spring_forward(after: datetime) -> datetime:
    """The first instant after `after` when New York's clocks jump forward (UTC)."""
    at = after.replace(minute=0, second=0, microsecond=0)
    offset = at.astimezone(NY).utcoffset()
    while True:
        at += timedelta(hours=1)
        now = at.astimezone(NY).utcoffset()
        if now is not None and offset is not None and now > offset:
            return at
        offset = now


async def _quiet_specialist(client, factory):
    spec = await make_specialist(factory, languages=["en"], timezone="America/New_York")
    r = await client.put(
        f"{API}/me/notification-preferences",
        json={"quiet_hours": {"start": "22:00", "end": "07:00"}},
        headers=factory.headers(spec),
    )
    assert r.status_code == 200, r.text
    assert r.json()["timezone"] == "America/New_York"  # from the profile
    return spec


async def _offer_to(client, factory, spec, urgency):
    org = await factory.make_org(country="NP", timezone="Asia/Kathmandu")
    coord = await factory.make_user(Role.coordinator)
    case = await factory.make_case(org.id, languages=["en"], urgency=urgency)
    r = await client.post(
        f"{API}/cases/{case.id}/offers",
        json={"specialist_ids": [spec.id]},
        headers=factory.headers(coord),
    )
    assert r.status_code == 201, r.text
    return case


async def test_quiet_hours_end_at_local_seven_on_the_night_the_clocks_change(
    client, factory, smtp, clock
):
    jump = next_spring_forward(T0)  # 02:00 EST becomes 03:00 EDT
    clock.set(jump - timedelta(minutes=30))  # 01:30 EST: quiet
    spec = await _quiet_specialist(client, factory)
    await _offer_to(client, factory, spec, "routine")
    [d] = await deliveries(user_id=spec.id, channel="email")
    # 07:00 that morning is EDT (UTC-4): 11:00 UTC, not the 12:00 a fixed offset would give.
    seven = datetime.combine(jump.astimezone(NY).date(), datetime.min.time().replace(hour=7))
    assert d.next_attempt_at == seven.replace(tzinfo=NY).astimezone(UTC)
    assert d.next_attempt_at - (jump - timedelta(minutes=30)) == timedelta(hours=4, minutes=30)
    assert await send_all() == 0
    clock.set(d.next_attempt_at - timedelta(minutes=1))
    assert await send_all() == 0 and smtp.messages == []
    clock.set(d.next_attempt_at)
    assert await send_all() == 1
    assert len(smtp.to(spec.email)) == 1


def test_the_quiet_window_in_wall_time_on_both_changes():
    jump = next_spring_forward(T0)
    # The spring night is an hour shorter, the autumn one an hour longer: wall time holds.
    assert quiet_until(jump - timedelta(hours=3), "22:00", "07:00", "America/New_York") == (
        jump + timedelta(hours=4)
    )
    fall = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 EST, after the fall change
    assert quiet_until(fall, "22:00", "07:00", "America/New_York") == datetime(
        2026, 11, 1, 12, 0, tzinfo=UTC
    )
    assert quiet_until(fall + timedelta(hours=7), "22:00", "07:00", "America/New_York") is None
    assert quiet_until(fall, "09:00", "17:00", "America/New_York") is None


async def test_an_emergency_offer_goes_through_quiet_hours(client, factory, smtp, clock):
    clock.set(next_spring_forward(T0) - timedelta(minutes=30))
    spec = await _quiet_specialist(client, factory)
    await _offer_to(client, factory, spec, "emergency")
    assert await send_all() == 1
    [mail] = smtp.to(spec.email)
    assert "emergency" in mail["Subject"]


async def test_nothing_is_sent_to_a_specialist_on_time_off(client, factory, smtp, clock):
    today = clock.now().date()
    spec = await make_specialist(
        factory,
        time_off=[{"start": today, "end": today + timedelta(days=3)}],
    )
    async with sessionmaker()() as s:
        n = await notify(s, spec.id, Kind.messages, data={"count": 2}, link="https://x/cases/1")
        await s.commit()
    assert n is not None  # kept in the in-app list for their return
    assert await deliveries(user_id=spec.id) == [] and await send_all() == 0


async def test_channels_per_kind_and_in_app_always_on(client, factory, smtp):
    spec = await make_specialist(factory)
    h = factory.headers(spec)
    got = (await client.get(f"{API}/me/notification-preferences", headers=h)).json()
    assert got["channels"]["offer"] == ["email", "in_app", "push", "sms"]
    assert got["channels"]["digest"] == ["email", "in_app"] and got["quiet_hours"] is None
    r = await client.put(
        f"{API}/me/notification-preferences",
        json={"channels": {"offer": ["push"]}, "language": "es"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["channels"]["offer"] == ["in_app", "push"]
    assert r.json()["channels"]["messages"] == ["email", "in_app"]  # default kept
    await _offer_to(client, factory, spec, "routine")
    assert await deliveries(user_id=spec.id) == []  # no push subscription, email off
    r = await client.get(f"{API}/notifications", headers=h)
    [n] = r.json()["items"]
    assert n["subject"].startswith("Nueva oferta de consulta")  # their language


async def test_bad_preferences_are_422_with_pointers(client, factory):
    spec = await make_specialist(factory)
    h = factory.headers(spec)
    for body, pointer in (
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "/quiet_hours/start"),
        ({"channels": {"gossip": ["email"]}}, "/channels/gossip"),
        ({"channels": {"offer": ["pigeon"]}}, "/channels/offer/0"),
        ({"timezone": "Mars/Olympus"}, "/timezone"),
        ({"surprise": 1}, "/surprise"),
    ):
        r = await client.put(f"{API}/me/notification-preferences", json=body, headers=h)
        assert r.status_code == 422, r.text
        assert any(e["pointer"].startswith(pointer) for e in r.json()["errors"]), r.json()
    client_app = await factory.make_client((await factory.make_org()).id)
    r = await client.get(f"{API}/me/notification-preferences", headers=factory.headers(client_app))
    assert r.status_code == 403
