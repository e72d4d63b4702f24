"""Preferences list only the kinds a person's role can receive (a clinician is never offered
a case, a specialist never told of an unmatched one), a kind her role never receives is not
kept when sent, and the read says where the zone and language come from: her own choice,
the specialist profile, the facility, or nothing known (UTC and English), so a client can
offer her zone instead of a UTC nobody chose."""

from typing import Any

from app.core.db import sessionmaker
from app.core.principal import Role
from app.notifications.kinds import Kind
from app.notifications.models import NotificationSetting
from app.notifications.preferences import KINDS_FOR
from tests.notifications.support import API
from tests.specialists.support import make_specialist

PREFS = f"{API}/me/notification-preferences"

# A round's news (reminders, changes, being added) goes to its participants.
ROUND = {k.value for k in Kind if k.value.startswith("round_")}
assert "round_reminder" in ROUND
EXPECTED = {
    Role.clinician: {
        "note_signed",
        "followup_assigned",
        "followup_due",
        "followup_overdue",
        "messages",
        "digest",
    }
    | ROUND,
    Role.specialist: {
        "offer",
        "offer_expiring",
        "case_added",
        "followup_assigned",
        "followup_due",
        "followup_overdue",
        "messages",
        "digest",
    }
    | ROUND,
    Role.interpreter: {
        "case_added",
        "followup_assigned",
        "followup_due",
        "followup_overdue",
        "messages",
        "digest",
    }
    | ROUND,
    Role.coordinator: {
        "case_unmatched",
        "case_overdue",
        "followup_assigned",
        "followup_due",
        "followup_overdue",
        "digest",
    },
    Role.admin: {"followup_assigned", "followup_due", "followup_overdue", "digest"},
}


async def _read(client: Any, h: dict[str, str]) -> dict[str, Any]:
    r = await client.get(PREFS, headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_every_kind_reaches_some_role():
    """A kind added without saying who receives it would vanish from everyone's preferences."""
    assert set().union(*KINDS_FOR.values()) == set(Kind)
    assert {r: {k.value for k in kinds} for r, kinds in KINDS_FOR.items()} == EXPECTED


async def test_each_role_is_offered_only_the_kinds_it_can_receive(client, factory):
    org = await factory.make_org()
    for role in Role:
        more = {"organization_id": org.id} if role == Role.clinician else {}
        user = await factory.make_user(role, **more)
        got = await _read(client, factory.headers(user))
        assert set(got["channels"]) == EXPECTED[role], role


async def test_a_kind_her_role_never_receives_is_not_kept(client, factory):
    org = await factory.make_org()
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clinician)
    r = await client.put(
        PREFS,
        json={"channels": {"offer": ["email"], "note_signed": ["sms"]}},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert "offer" not in r.json()["channels"]
    assert r.json()["channels"]["note_signed"] == ["in_app", "sms"]
    async with sessionmaker()() as s:
        row = await s.get(NotificationSetting, clinician.id)
        assert row is not None
        assert row.channels == {"note_signed": ["in_app", "sms"]}


async def test_the_read_says_where_her_zone_and_language_come_from(client, factory):
    coord = await factory.make_user(Role.coordinator)
    h = factory.headers(coord)
    got = await _read(client, h)
    # Nothing known of her: UTC and English, and said to be only that.
    assert (got["timezone"], got["language"]) == ("UTC", "en")
    assert (got["timezone_source"], got["language_source"]) == ("default", "default")
    r = await client.put(PREFS, json={"timezone": "Africa/Kinshasa", "language": "fr"}, headers=h)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["timezone"], got["language"]) == ("Africa/Kinshasa", "fr")
    assert (got["timezone_source"], got["language_source"]) == ("own", "own")

    spec = await make_specialist(factory, languages=["es"], timezone="Europe/Madrid")
    got = await _read(client, factory.headers(spec))
    assert (got["timezone_source"], got["language_source"]) == (
        "specialist_profile",
        "specialist_profile",
    )

    org = await factory.make_org(timezone="Africa/Nairobi", languages=["sw", "fr"])
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    got = await _read(client, factory.headers(clinician))
    assert (got["timezone"], got["language"]) == ("Africa/Nairobi", "fr")
    assert (got["timezone_source"], got["language_source"]) == ("facility", "facility")
