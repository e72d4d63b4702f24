"""A specialist who has never saved her profile is offered her own time zone (her device's),
not the service's stand-in UTC: an evening window typed in Tokyo was stored as the same
hours in UTC, nine hours off, and she was offered cases while asleep."""

from typing import Any

import httpx

from tests.console.support import add_person, bearers, ready, seeded_console, signed_in


async def test_a_new_specialist_is_offered_her_own_zone(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            keiko = await add_person(c, "keiko", "Dr Keiko Sato", "specialist")
            h = await bearers(c, prog, "coordinator")
            r = await c.get(f"/api/v1/specialists/{keiko['id']}", headers=h["coordinator"])
            assert r.json()["timezone"] == "UTC"  # the stand-in, never saved
        ctx = await b.new_context(
            timezone_id="Asia/Tokyo", locale="en-GB", viewport={"width": 360, "height": 740}
        )
        page = await ctx.new_page()
        await signed_in(page, base, "keiko@console.example.org")
        await page.goto(f"{base}/availability")
        await ready(page, "availability")
        assert await page.input_value("#profile-form [name=timezone]") == "Asia/Tokyo"
        await page.click("#add-window")
        row = page.locator("#windows li").last
        await row.locator("[name=start]").fill("19:00")
        await row.locator("[name=end]").fill("23:00")
        await page.check("#profile-form [name=specialties][value=dermatology]")
        await page.fill("#profile-form [name=languages]", "ja, en")
        async with page.expect_response(
            lambda r: r.url.endswith("/profile") and r.request.method == "PUT"
        ) as put:
            await page.click("#profile-form button[type=submit]")
        response: Any = await put.value
        assert response.status == 200, await response.text()
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/specialists/{keiko['id']}", headers=h["coordinator"])
        assert r.json()["timezone"] == "Asia/Tokyo"
        # Once saved, what she saved is shown, whatever the device says.
        other = await b.new_context(timezone_id="Europe/London")
        page = await other.new_page()
        await signed_in(page, base, "keiko@console.example.org")
        await page.goto(f"{base}/availability")
        await ready(page, "availability")
        assert await page.input_value("#profile-form [name=timezone]") == "Asia/Tokyo"
        await ctx.close()
        await other.close()
