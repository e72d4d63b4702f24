"""Each refusal of a profile names the field or list row it is about (`pointer`) and why,
for programs (`code`), so a client says it in its own words: the console in the
specialist's language, naming "Window 6 (Tuesday 09:00-08:00)" rather than
`availability.5`. The problem stays RFC 9457 (type, title, status, detail, errors)."""

from datetime import timedelta
from typing import Any

from app.core.clock import utcnow
from app.core.principal import Role
from tests.specialists.support import make_specialist, profile_body

API = "/api/v1"
TUESDAY = [
    {"weekday": 0, "start": "09:00", "end": "13:00"},
    {"weekday": 1, "start": "09:00", "end": "13:00"},
]


def _day(days: int) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()  # from the tests' clock


async def _refused(client: Any, factory: Any, who: Any, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.put(
        f"{API}/specialists/{who.id}/profile", json=body, headers=factory.headers(who)
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)
    assert problem["status"] == 422 and problem["type"].startswith("https://")
    for e in problem["errors"]:
        assert {"pointer", "detail"} <= set(e) <= {"pointer", "detail", "code", "limit"}, e
        assert not e["detail"].startswith("Value error"), e  # pydantic's wording, not ours
    return problem


def _coded(problem: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["pointer"], e.get("code")) for e in problem["errors"]]


async def test_a_window_ending_before_it_starts_is_coded_on_its_row(client, factory):
    sp = await make_specialist(factory)
    windows = [*TUESDAY, {"weekday": 1, "start": "15:00", "end": "14:00"}]
    p = await _refused(client, factory, sp, profile_body(availability=windows))
    assert p["type"].endswith("/validation-error")
    assert _coded(p) == [("/availability/2", "end_before_start")]
    # Said in English too, with the way out for a window past midnight.
    assert "end must be after start" in p["errors"][0]["detail"]
    assert "24:00" in p["errors"][0]["detail"]


async def test_overlapping_windows_are_coded_on_both_rows(client, factory):
    sp = await make_specialist(factory)
    windows = [*TUESDAY, {"weekday": 1, "start": "10:00", "end": "12:00"}]
    p = await _refused(client, factory, sp, profile_body(availability=windows))
    assert p["type"].endswith("/overlapping-windows")
    assert _coded(p) == [
        ("/availability/1", "window_overlap"),
        ("/availability/2", "window_overlap"),
    ]


async def test_time_off_ending_before_it_starts_is_coded_on_each_row_end(client, factory):
    sp = await make_specialist(factory)
    time_off = [
        {"start": _day(30), "end": _day(25)},
        {"start": _day(40), "end": _day(41)},
        {"start": _day(60), "end": _day(50)},
    ]
    p = await _refused(client, factory, sp, profile_body(time_off=time_off))
    assert p["type"].endswith("/bad-time-off")
    # Every row that is wrong, not only the first: she fixes them in one go.
    assert _coded(p) == [("/time_off/0/end", "after_start"), ("/time_off/2/end", "after_start")]


async def test_time_off_without_an_end_is_refused_not_dropped(client, factory):
    sp = await make_specialist(factory)
    p = await _refused(client, factory, sp, profile_body(time_off=[{"start": _day(30)}]))
    assert _coded(p) == [("/time_off/0/end", "missing")]
    r = await client.get(f"{API}/specialists/{sp.id}", headers=factory.headers(sp))
    assert r.json()["time_off"] == []
    # One day off is from that day to that same day (the end day is included).
    r = await client.put(
        f"{API}/specialists/{sp.id}/profile",
        json=profile_body(time_off=[{"start": _day(30), "end": _day(30)}]),
        headers=factory.headers(sp),
    )
    assert r.status_code == 200, r.text
    (span,) = r.json()["time_off"]
    assert span["start"] < span["end"]


async def test_an_unknown_time_zone_and_a_bad_language_tag_are_coded(client, factory):
    sp = await make_specialist(factory)
    p = await _refused(client, factory, sp, profile_body(timezone="Paris"))
    assert _coded(p) == [("/timezone", "unknown_time_zone")]
    assert "unknown IANA time zone 'Paris'" in p["errors"][0]["detail"]
    p = await _refused(client, factory, sp, profile_body(languages=["es", "xx_1"]))
    assert _coded(p) == [("/languages/1", "language_tag")]
    assert "'xx_1' is not a BCP 47 language tag" in p["errors"][0]["detail"]


async def test_the_same_codes_elsewhere_a_zone_is_checked(client, factory):
    # The zone's rule is shared (app/core/schemas.py): a facility's zone says the same.
    admin = await factory.make_user(Role.admin)
    r = await client.post(
        f"{API}/organizations",
        headers=factory.headers(admin),
        json={"name": "Clinique du Lac", "country": "FR", "timezone": "Paris", "languages": ["fr"]},
    )
    assert r.status_code == 422, r.text
    assert ("/timezone", "unknown_time_zone") in _coded(r.json())
