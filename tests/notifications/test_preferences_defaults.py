"""A zone and language the user never chose keep following where they come from (the
specialist's profile, the facility), even after a client sends back what it read; one they
chose is kept; null goes back to following."""

from typing import Any

from app.core.db import sessionmaker
from app.core.principal import Role
from app.notifications.models import NotificationSetting
from app.organizations.models import Organization
from app.specialists.models import SpecialistProfile
from tests.notifications.support import API
from tests.specialists.support import make_specialist

PREFS = f"{API}/me/notification-preferences"


async def _move(spec_id: str, timezone: str, languages: list[str]) -> None:
    """The specialist's profile now says another zone and languages."""
    async with sessionmaker()() as s:
        profile = await s.get(SpecialistProfile, spec_id)
        assert profile is not None
        profile.timezone, profile.languages = timezone, languages
        await s.commit()


async def _stored(user_id: str) -> tuple[str | None, str | None]:
    async with sessionmaker()() as s:
        row = await s.get(NotificationSetting, user_id)
        assert row is not None
        return row.timezone, row.language


async def _put(client: Any, h: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    r = await client.put(PREFS, json=body, headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_defaults_sent_back_as_read_keep_following_the_profile(client, factory):
    spec = await make_specialist(factory, languages=["es", "en"], timezone="Europe/Madrid")
    h = factory.headers(spec)
    read = (await client.get(PREFS, headers=h)).json()
    assert (read["timezone"], read["language"]) == ("Europe/Madrid", "es")
    # What a client that read them sends back with its own change (quiet hours).
    body = {k: read[k] for k in ("channels", "timezone", "language")}
    got = await _put(client, h, body | {"quiet_hours": {"start": "22:00", "end": "07:00"}})
    assert (got["timezone"], got["language"]) == ("Europe/Madrid", "es")
    assert await _stored(spec.id) == (None, None)  # not made hers

    await _move(spec.id, "America/New_York", ["fr"])
    read = (await client.get(PREFS, headers=h)).json()
    assert (read["timezone"], read["language"]) == ("America/New_York", "fr")
    assert read["quiet_hours"] == {"start": "22:00", "end": "07:00"}


async def test_a_clinicians_defaults_keep_following_the_facility(client, factory):
    org = await factory.make_org(timezone="Africa/Nairobi", languages=["sw", "fr"])
    clinician = await factory.make_user(Role.clinician, organization_id=org.id)
    h = factory.headers(clinician)
    read = (await client.get(PREFS, headers=h)).json()
    await _put(client, h, {"timezone": read["timezone"], "language": read["language"]})
    async with sessionmaker()() as s:
        row = await s.get(Organization, org.id)
        assert row is not None
        row.timezone, row.languages = "Asia/Kathmandu", ["en"]
        await s.commit()
    read = (await client.get(PREFS, headers=h)).json()
    assert (read["timezone"], read["language"]) == ("Asia/Kathmandu", "en")


async def test_her_own_zone_and_language_are_kept_and_null_follows_again(client, factory):
    spec = await make_specialist(factory, languages=["es"], timezone="Europe/Madrid")
    h = factory.headers(spec)
    await _put(client, h, {"timezone": "Asia/Tokyo", "language": "en"})
    # Sent again as read (another save that did not touch them): still hers.
    read = (await client.get(PREFS, headers=h)).json()
    await _put(client, h, {"timezone": read["timezone"], "language": read["language"]})
    await _move(spec.id, "America/New_York", ["fr"])
    read = (await client.get(PREFS, headers=h)).json()
    assert (read["timezone"], read["language"]) == ("Asia/Tokyo", "en")

    # Choosing what the profile says while she has her own: that is a choice, kept.
    await _put(client, h, {"timezone": "America/New_York", "language": "fr"})
    assert await _stored(spec.id) == ("America/New_York", "fr")

    # null: follow the profile again.
    got = await _put(client, h, {"timezone": None, "language": None})
    assert await _stored(spec.id) == (None, None)
    await _move(spec.id, "Asia/Tokyo", ["es"])
    read = (await client.get(PREFS, headers=h)).json()
    assert (got["timezone"], read["timezone"], read["language"]) == (
        "America/New_York",
        "Asia/Tokyo",
        "es",
    )
