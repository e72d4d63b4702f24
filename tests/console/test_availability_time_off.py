"""Time off on the Availability page, in a real browser: the dates are the specialist's own
calendar days (her profile's zone, not the browser's, not UTC), the end day included, and
saving the page without touching it changes nothing, however often, east or west of UTC.
A span the API was given in instants (part of a day) comes back as it went."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in

# Her zone, and the browser's: another one, so the page cannot lean on the browser's zone.
ZONES = [
    ("Europe/Madrid", "America/Los_Angeles"),
    ("Asia/Kathmandu", "America/Los_Angeles"),
    ("Pacific/Auckland", "America/New_York"),
    ("America/Los_Angeles", "Asia/Kathmandu"),
]

ROWS_JS = """lis => lis.map(li => [
    li.querySelector('[name=off_start]').value, li.querySelector('[name=off_end]').value])"""


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def _stored(c: httpx.AsyncClient, headers: dict[str, str], sid: str) -> list[Any]:
    r = await c.get(f"/api/v1/specialists/{sid}", headers=headers)
    r.raise_for_status()
    return [
        (datetime.fromisoformat(o["start"]), datetime.fromisoformat(o["end"]))
        for o in r.json()["time_off"]
    ]


async def _shown(page: Any) -> list[list[str]]:
    return await page.eval_on_selector_all("#time-off li", ROWS_JS)


async def _save(page: Any) -> None:
    async with page.expect_response(
        lambda r: r.url.endswith("/profile") and r.request.method == "PUT"
    ) as put:
        await page.click("#profile-form button[type=submit]")
    response = await put.value
    assert response.status == 200, await response.text()
    await page.wait_for_selector("#status[data-kind=info]:not(:empty)")


@pytest.mark.parametrize(("zone", "browser_zone"), ZONES)
async def test_saving_the_page_again_and_again_leaves_time_off_where_it_was(
    app, factory, zone, browser_zone
):
    first = utcnow().date() + timedelta(days=365)  # a year ahead of the tests' clock
    last = first + timedelta(days=11)  # included
    # Part of a day, given to the API in instants: from 13:30 to 17:00 UTC, 40 days on.
    part = datetime.combine(first + timedelta(days=40), time(13, 30), tzinfo=UTC)
    partial = (part, part + timedelta(hours=3, minutes=30))
    async with seeded_console(app, factory) as (base, b, prog):
        sid = prog.people["specialist"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            r = await c.put(
                f"/api/v1/specialists/{sid}/profile",
                headers=h["coordinator"],
                json={
                    "specialties": ["dermatology"],
                    "languages": ["es", "en"],
                    "timezone": zone,
                    "availability": [
                        {"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)
                    ],
                    "time_off": [
                        {"start": s.isoformat(), "end": e.isoformat()} for s, e in [partial]
                    ],
                    "max_active_cases": 5,
                    "accepting": True,
                },
            )
            r.raise_for_status()

        ctx = await b.new_context(timezone_id=browser_zone)
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/availability")
        await ready(page, "availability")
        await page.click("#add-time-off")
        await page.fill("#time-off li:last-child [name=off_start]", first.isoformat())
        await page.fill("#time-off li:last-child [name=off_end]", last.isoformat())
        await _save(page)

        tz = ZoneInfo(zone)
        whole = (_midnight(first, zone), _midnight(last + timedelta(days=1), zone))
        stored = [whole, partial]  # (in order of start)
        shown = [
            [first.isoformat(), last.isoformat()],
            [
                partial[0].astimezone(tz).date().isoformat(),
                (partial[1] - timedelta(microseconds=1)).astimezone(tz).date().isoformat(),
            ],
        ]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            assert await _stored(c, h["coordinator"], sid) == stored
            for n in range(3):  # reload, and save without touching anything
                await page.reload()
                await ready(page, "availability")
                assert await _shown(page) == shown, f"after save {n + 1}"
                await _save(page)
                assert await _stored(c, h["coordinator"], sid) == stored, f"save {n + 2}"
        await page.reload()
        await ready(page, "availability")
        assert await _shown(page) == shown
        await ctx.close()
