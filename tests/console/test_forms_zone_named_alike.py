"""One zone, one name: a specialist in India whose browser says Asia/Calcutta and whose
profile says Asia/Kolkata reads "Kolkata, India Standard Time" in the footer, on /profile
and beside the zone field on /availability, never a bare id nor two cities."""

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in

NAME = "Kolkata, India Standard Time"


async def test_the_zone_reads_the_same_on_every_page(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            sid = prog.people["specialist"]["id"]
            r = await c.get(f"/api/v1/specialists/{sid}", headers=h["coordinator"])
            profile = r.json()
            body = {
                k: profile[k]
                for k in (
                    "specialties",
                    "languages",
                    "availability",
                    "time_off",
                    "max_active_cases",
                    "accepting",
                )
            }
            r = await c.put(
                f"/api/v1/specialists/{sid}/profile",
                headers=h["coordinator"],
                json={**body, "timezone": "Asia/Kolkata", "verified": True},
            )
            r.raise_for_status()
        ctx = await b.new_context(locale="en-GB", timezone_id="Asia/Calcutta")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"), "inbox")
        assert await page.inner_text("#tz") == NAME

        await page.goto(f"{base}/profile")
        await ready(page, "profile")
        facts = await page.inner_text("#me")
        assert f"{NAME} (" in facts, facts
        assert "Asia/" not in facts and "Calcutta" not in facts, facts
        assert await page.inner_text("#tz") == NAME

        await page.goto(f"{base}/availability")
        await ready(page, "availability")
        assert await page.input_value("#sp-timezone") == "Asia/Kolkata"  # the id the server takes
        assert await page.inner_text("#sp-timezone-name") == NAME
        assert "Asia/" not in await page.inner_text("#main")
        assert await page.inner_text("#tz") == NAME
        await page.fill("#sp-timezone", "America/Argentina/Salta")
        assert (await page.inner_text("#sp-timezone-name")).startswith("Salta, ")
        await ctx.close()
