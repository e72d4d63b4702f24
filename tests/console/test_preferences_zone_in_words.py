"""/preferences names the zone of her quiet hours in words, as the footer, /profile and
/availability do ("Kolkata, India Standard Time"), never the bare id ("Asia/Kolkata"); a
city renamed since its id was given (her browser says Asia/Calcutta) reads by today's name.
The field keeps the id the server takes, and says the name of what she types beside it."""

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in, status_says

PREFS = "/api/v1/me/notification-preferences"
NAME = "Kolkata, India Standard Time"


async def test_the_quiet_hours_zone_reads_by_its_name(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            # A coordinator the service knows no zone of; her browser in India, by its old id.
            ctx = await b.new_context(locale="en-GB", timezone_id="Asia/Calcutta")
            await ctx.clock.set_fixed_time(utcnow())
            page = await ctx.new_page()
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/preferences")
            await ready(page, "preferences")

            # Her browser's zone offered, named as every other page names it.
            said = await page.inner_text("#prefs-zone")
            assert NAME in said, said
            assert "Asia/" not in said and "Calcutta" not in said, said
            assert await page.inner_text("#tz") == NAME  # the footer: the same words
            zone = await page.input_value("#prefs-timezone")
            assert zone in ("Asia/Calcutta", "Asia/Kolkata")  # the id the server takes
            assert await page.inner_text("#prefs-timezone-name") == NAME

            # Saved: the page says the zone kept, still by today's name.
            await page.click("#prefs-form button[type=submit]")
            await status_says(page, "Saved")
            got = (await c.get(PREFS, headers=h["coordinator"])).json()
            assert got["timezone"] in ("Asia/Calcutta", "Asia/Kolkata"), got
            await page.reload()
            await ready(page, "preferences")
            said = await page.inner_text("#prefs-zone")
            assert NAME in said and "Asia/" not in said and "Calcutta" not in said, said
            assert await page.inner_text("#prefs-timezone-name") == NAME

            # She types another zone's id: its name is said beside the field as she types.
            await page.fill("#prefs-timezone", "America/Argentina/Salta")
            assert (await page.inner_text("#prefs-timezone-name")).startswith("Salta, ")
            await page.click("#prefs-form button[type=submit]")
            await status_says(page, "Saved")
            said = await page.inner_text("#prefs-zone")
            assert "Salta, " in said and "America/" not in said, said
            assert (await c.get(PREFS, headers=h["coordinator"])).json()["timezone"] == (
                "America/Argentina/Salta"
            )
            await ctx.close()
