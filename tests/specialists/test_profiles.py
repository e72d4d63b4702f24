from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.core.clock import utcnow
from app.core.principal import Role
from tests.specialists.support import make_specialist, profile_body

API = "/api/v1"


async def test_specialty_vocabulary_needs_a_token(client, factory):
    assert (await client.get(f"{API}/specialties")).status_code == 401
    clin = await factory.make_user(Role.clinician, organization_id=(await factory.make_org()).id)
    r = await client.get(f"{API}/specialties", headers=factory.headers(clin))
    assert r.status_code == 200
    codes = {s["code"] for s in r.json()}
    assert {"dermatology", "obstetrics_gynecology", "infectious_disease"} <= codes


async def test_each_specialty_says_how_many_can_take_its_cases_now(client, factory):
    """A clinic choosing between two close specialties learns that one has nobody who can
    take a case now: before, her case went to it and waited, unmatched, with no warning."""
    await make_specialist(factory, specialties=["dermatology", "pediatrics"])
    await make_specialist(factory, specialties=["dermatology"])
    await make_specialist(factory, specialties=["cardiology"], accepting=False)
    await make_specialist(factory, specialties=["neurology"], verified=False)
    await make_specialist(factory, specialties=["nephrology"], active=False)
    clin = await factory.make_user(Role.clinician, organization_id=(await factory.make_org()).id)
    r = await client.get(f"{API}/specialties", headers=factory.headers(clin))
    ready = {s["code"]: s["ready_specialists"] for s in r.json()}
    assert ready["dermatology"] == 2 and ready["pediatrics"] == 1
    # Not accepting, not yet verified, switched off, or nobody at all: none can take it.
    assert ready["cardiology"] == ready["neurology"] == ready["nephrology"] == 0
    assert ready["infectious_disease"] == 0


async def test_specialist_writes_own_profile_and_coordinator_verifies(client, factory):
    sp = await factory.make_user(Role.specialist)
    coord = await factory.make_user(Role.coordinator)
    r = await client.put(
        f"{API}/specialists/{sp.id}/profile", json=profile_body(), headers=factory.headers(sp)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verified"] is False
    assert body["specialties"] == ["dermatology"]
    assert body["availability"] == [{"weekday": 0, "start": "09:00", "end": "17:00"}]
    assert body["active_cases"] == 0
    etag = r.headers["ETag"]

    # Only a coordinator sets verified.
    r = await client.put(
        f"{API}/specialists/{sp.id}/profile",
        json=profile_body(verified=True),
        headers=factory.headers(sp),
    )
    assert r.status_code == 403
    assert r.json()["type"].endswith("verified-by-coordinator-only")

    r = await client.put(
        f"{API}/specialists/{sp.id}/profile",
        json=profile_body(verified=True),
        headers={**factory.headers(coord), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    assert r.json()["verified"] is True

    # The first ETag is stale now.
    r = await client.put(
        f"{API}/specialists/{sp.id}/profile",
        json=profile_body(),
        headers={**factory.headers(sp), "If-Match": etag},
    )
    assert r.status_code == 412

    # Keeping the same specialties keeps verification; adding one sends it back for checks.
    r = await client.put(
        f"{API}/specialists/{sp.id}/profile",
        json=profile_body(max_active_cases=5),
        headers=factory.headers(sp),
    )
    assert r.json()["verified"] is True and r.json()["max_active_cases"] == 5
    r = await client.put(
        f"{API}/specialists/{sp.id}/profile",
        json=profile_body(specialties=["dermatology", "cardiology"]),
        headers=factory.headers(sp),
    )
    assert r.status_code == 200
    assert r.json()["verified"] is False


async def test_profile_etag_names_its_version_and_a_current_copy_is_304(client, factory, clock):
    clock.freeze()  # inside her window, the next one is "now" to the minute
    sp = await factory.make_user(Role.specialist)
    coord = await factory.make_user(Role.coordinator)
    url, h = f"{API}/specialists/{sp.id}", factory.headers(coord)

    # Never written: the read's tag names version 0, the one the first write is compared with.
    r = await client.get(url, headers=h)
    assert r.status_code == 200 and r.headers["ETag"].startswith('"0-')
    r = await client.put(
        f"{url}/profile", json=profile_body(), headers={**h, "If-Match": r.headers["ETag"]}
    )
    assert r.status_code == 200 and r.headers["ETag"].startswith('"1-')
    first = r.headers["ETag"]

    r = await client.get(url, headers={**h, "If-None-Match": first})
    assert r.status_code == 304 and r.headers["ETag"] == first and r.content == b""
    r = await client.put(
        f"{url}/profile", json=profile_body(max_active_cases=5), headers={**h, "If-Match": first}
    )
    assert r.status_code == 200 and r.headers["ETag"].startswith('"2-')
    second = r.headers["ETag"]
    r = await client.get(url, headers={**h, "If-None-Match": first})
    assert r.status_code == 200 and r.headers["ETag"] == second
    assert r.json()["max_active_cases"] == 5

    # A stale If-Match changes nothing; the 412 names the version to read again.
    for stale in (first, '"1"'):
        r = await client.put(
            f"{url}/profile",
            json=profile_body(max_active_cases=7),
            headers={**h, "If-Match": stale},
        )
        assert r.status_code == 412 and r.json()["current_etag"] == '"2"'
    assert (await client.get(url, headers=h)).json()["max_active_cases"] == 5


async def test_a_copy_is_not_current_once_her_open_cases_or_next_window_move(
    client, factory, clock
):
    """Open cases and the next window change without a write to the profile: a copy held
    from before is read again in full (not 304), and a write based on it still goes in."""
    clock.freeze()
    sp = await factory.make_user(Role.specialist)
    coord = await factory.make_user(Role.coordinator)
    url, h = f"{API}/specialists/{sp.id}", factory.headers(coord)
    await client.put(f"{url}/profile", json=profile_body(), headers=h)
    r = await client.get(url, headers=h)
    held, before = r.headers["ETag"], r.json()

    org = await factory.make_org()
    await factory.make_case(org.id, assigned_specialist_id=sp.id)
    r = await client.get(url, headers={**h, "If-None-Match": held})
    assert r.status_code == 200 and r.headers["ETag"] != held
    assert r.json()["active_cases"] == before["active_cases"] + 1
    held = r.headers["ETag"]

    # Inside her window (Mondays 09:00-17:00 in Madrid, T0 is a Monday 11:00 there) her
    # next window is now; after it closes it is a week on.
    r = await client.get(url, headers={**h, "If-None-Match": held})
    assert r.status_code == 304
    clock.advance(timedelta(hours=7))
    r = await client.get(url, headers={**h, "If-None-Match": held})
    assert r.status_code == 200 and r.headers["ETag"] != held
    assert r.json()["next_window_start"] != before["next_window_start"]

    # The profile's version is unchanged: the held tag is still a read of it for a write.
    r = await client.put(
        f"{url}/profile", json=profile_body(max_active_cases=4), headers={**h, "If-Match": held}
    )
    assert r.status_code == 200 and r.json()["max_active_cases"] == 4


async def test_api_clients_read_the_directory_with_cases_read_only(client, factory):
    sp = await make_specialist(factory)
    org = await factory.make_org()
    reader = await factory.make_client(org.id, ["cases:read"])
    narrow = await factory.make_client(org.id, ["rounds:read"])
    for path in ("/specialists", "/specialists/on-duty", f"/specialists/{sp.id}"):
        assert (await client.get(API + path, headers=factory.headers(reader))).status_code == 200
        r = await client.get(API + path, headers=factory.headers(narrow))
        assert r.status_code == 403 and r.json()["type"].endswith("/insufficient-scope")
    # Writing a profile is for people, never for an API client.
    r = await client.put(
        f"{API}/specialists/{sp.id}/profile", json=profile_body(), headers=factory.headers(reader)
    )
    assert r.status_code == 403


async def test_someone_else_may_not_write_a_profile(client, factory):
    sp = await make_specialist(factory)
    other = await factory.make_user(Role.specialist)
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    for who in (other, clin):
        r = await client.put(
            f"{API}/specialists/{sp.id}/profile", json=profile_body(), headers=factory.headers(who)
        )
        assert r.status_code == 403, who.role
    # A user who is not a specialist has no profile to write.
    r = await client.put(
        f"{API}/specialists/{clin.id}/profile",
        json=profile_body(),
        headers=factory.headers(await factory.make_user(Role.coordinator)),
    )
    assert r.status_code == 404


async def _assert_422(client, factory, who, body, pointer):
    r = await client.put(
        f"{API}/specialists/{who.id}/profile", json=body, headers=factory.headers(who)
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    pointers = [e["pointer"] for e in r.json()["errors"]]
    assert pointer in pointers, (pointer, r.json())
    return r.json()


async def test_bad_profiles_are_clear_problems_and_change_nothing(client, factory):
    sp = await make_specialist(factory, specialties=["cardiology"], timezone="Asia/Tokyo")
    p = await _assert_422(
        client, factory, sp, profile_body(specialties=["wizardry"]), "/specialties/0"
    )
    assert "GET /specialties" in p["errors"][0]["detail"]
    await _assert_422(client, factory, sp, profile_body(timezone="Mars/Olympus_Mons"), "/timezone")
    await _assert_422(
        client,
        factory,
        sp,
        profile_body(availability=[{"weekday": 1, "start": "17:00", "end": "09:00"}]),
        "/availability/0",
    )
    await _assert_422(
        client,
        factory,
        sp,
        profile_body(availability=[{"weekday": 7, "start": "09:00", "end": "10:00"}]),
        "/availability/0/weekday",
    )
    await _assert_422(
        client,
        factory,
        sp,
        profile_body(availability=[{"weekday": 1, "start": "25:00", "end": "26:00"}]),
        "/availability/0/start",
    )
    p = await _assert_422(
        client,
        factory,
        sp,
        profile_body(
            availability=[
                {"weekday": 2, "start": "09:00", "end": "12:00"},
                {"weekday": 2, "start": "11:00", "end": "13:00"},
            ]
        ),
        "/availability/1",
    )
    assert p["type"].endswith("overlapping-windows")
    await _assert_422(
        client,
        factory,
        sp,
        profile_body(time_off=[{"start": "2026-12-24", "end": "2026-12-20"}]),
        "/time_off/0/end",
    )
    await _assert_422(client, factory, sp, profile_body(max_active_cases=0), "/max_active_cases")
    await _assert_422(client, factory, sp, profile_body(languages=["not a tag"]), "/languages/0")
    await _assert_422(
        client, factory, sp, {**profile_body(), "favourite_colour": "blue"}, "/favourite_colour"
    )
    # Nothing was half-written.
    r = await client.get(f"{API}/specialists/{sp.id}", headers=factory.headers(sp))
    assert r.json()["specialties"] == ["cardiology"]
    assert r.json()["timezone"] == "Asia/Tokyo"


async def test_time_off_dates_are_whole_local_days(client, factory):
    sp = await factory.make_user(Role.specialist)
    r = await client.put(
        f"{API}/specialists/{sp.id}/profile",
        headers=factory.headers(sp),
        json=profile_body(
            timezone="America/Argentina/Salta",
            time_off=[{"start": "2026-12-24", "end": "2026-12-25"}],
        ),
    )
    assert r.status_code == 200, r.text
    (span,) = r.json()["time_off"]
    # Salta is UTC-3: the 24th starts at 03:00 UTC, the 25th (included) ends at 03:00 on the 26th.
    assert datetime.fromisoformat(span["start"]) == datetime(2026, 12, 24, 3, tzinfo=UTC)
    assert datetime.fromisoformat(span["end"]) == datetime(2026, 12, 26, 3, tzinfo=UTC)


async def test_directory_filters_and_visibility(client, factory):
    es = await make_specialist(factory, specialties=["dermatology"], languages=["es-AR", "en"])
    fr = await make_specialist(
        factory, specialties=["dermatology", "pediatrics"], languages=["fr"], accepting=False
    )
    hidden = await make_specialist(factory, specialties=["dermatology"], verified=False)
    org = await factory.make_org()
    clin = await factory.make_user(Role.clinician, organization_id=org.id)
    coord = await factory.make_user(Role.coordinator)

    async def ids(who, **params):
        r = await client.get(f"{API}/specialists", params=params, headers=factory.headers(who))
        assert r.status_code == 200, r.text
        return {s["id"] for s in r.json()["items"]}

    assert await ids(clin, specialty="dermatology") == {es.id, fr.id}
    assert await ids(coord, specialty="dermatology") == {es.id, fr.id, hidden.id}
    assert await ids(clin, language="es") == {es.id}
    assert await ids(clin, specialty="pediatrics") == {fr.id}
    assert await ids(clin, accepting="true") == {es.id}
    # The unverified specialist still sees themselves.
    r = await client.get(f"{API}/specialists/{hidden.id}", headers=factory.headers(hidden))
    assert r.status_code == 200
    r = await client.get(f"{API}/specialists/{hidden.id}", headers=factory.headers(clin))
    assert r.status_code == 404

    r = await client.get(
        f"{API}/specialists", params={"specialty": "wizardry"}, headers=factory.headers(clin)
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("unknown-specialty")

    # Pages are stable and complete.
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"{API}/specialists", params=params, headers=factory.headers(coord))
        seen += [s["id"] for s in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted({es.id, fr.id, hidden.id}) and len(seen) == 3


def _window_around_now(zone: str, offset_days: int = 0) -> list[dict]:
    now = utcnow().astimezone(ZoneInfo(zone))
    day = (now.weekday() + offset_days) % 7
    start = f"{now.hour:02d}:00"
    end = "24:00" if now.hour == 23 else f"{now.hour + 1:02d}:00"
    return [{"weekday": day, "start": start, "end": end}]


async def test_on_duty_is_inside_a_window_in_their_own_zone(client, factory):
    tokyo, salta = "Asia/Tokyo", "America/Argentina/Salta"
    on = await make_specialist(factory, timezone=tokyo, availability=_window_around_now(tokyo))
    on_salta = await make_specialist(
        factory, timezone=salta, availability=_window_around_now(salta)
    )
    # The same wall-clock window, but in a zone where it is not that time now.
    wrong_zone = await make_specialist(
        factory, timezone=salta, availability=_window_around_now(tokyo)
    )
    later = await make_specialist(
        factory, timezone=tokyo, availability=_window_around_now(tokyo, offset_days=3)
    )
    now = utcnow()
    away = await make_specialist(
        factory,
        timezone=tokyo,
        availability=_window_around_now(tokyo),
        time_off=[{"start": now - timedelta(hours=1), "end": now + timedelta(days=2)}],
    )
    full = await make_specialist(
        factory, timezone=tokyo, availability=_window_around_now(tokyo), max_active_cases=1
    )
    org = await factory.make_org()
    await factory.make_case(org.id, assigned_specialist_id=full.id)
    other_specialty = await make_specialist(
        factory, specialties=["cardiology"], timezone=tokyo, availability=_window_around_now(tokyo)
    )
    clin = await factory.make_user(Role.clinician, organization_id=org.id)

    r = await client.get(
        f"{API}/specialists/on-duty",
        params={"specialty": "dermatology"},
        headers=factory.headers(clin),
    )
    assert r.status_code == 200, r.text
    got = {s["id"] for s in r.json()["items"]}
    if _window_around_now(tokyo)[0] != _window_around_now(salta)[0]:
        assert wrong_zone.id not in got
    assert on.id in got and on_salta.id in got
    assert not got & {later.id, away.id, full.id, other_specialty.id}
    r = await client.get(f"{API}/specialists/on-duty", headers=factory.headers(clin))
    assert other_specialty.id in {s["id"] for s in r.json()["items"]}
