"""A new calendar link on /profile, as a coordinator reading in French would make one: the
page asks first, saying the old link stops working (her calendar apps subscribed to it stop
updating); saying no changes nothing; saying yes shows the new link with a copy button and
says it was replaced; a call that fails is said in her language and the old link works on."""

import uuid

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in, status_says


async def test_a_new_calendar_link_is_asked_for_shown_copied_and_a_failure_said(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            r = await c.post(
                "/api/v1/me/calendar-token",
                json={},
                headers={**h["coordinator"], "Idempotency-Key": str(uuid.uuid4())},
            )
            assert r.status_code == 201, r.text
            old = r.json()["feed_path"]
            assert (await c.get(old)).status_code == 200

            ctx = await b.new_context(locale="fr-FR", timezone_id="Africa/Kinshasa")
            await ctx.clock.set_fixed_time(utcnow())
            await ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            page = await ctx.new_page()
            await signed_in(page, base, prog.email("coordinator"))
            await page.goto(f"{base}/profile")
            await ready(page, "profile")
            asked: list[str] = []

            # She is asked first; saying no changes nothing.
            async def no(d):
                asked.append(d.message)
                await d.dismiss()

            page.once("dialog", no)
            await page.click("#calendar-token")
            assert asked and "ancien" in asked[0] and "agenda" in asked[0].lower(), asked
            assert (await c.get(old)).status_code == 200
            assert await page.locator("#calendar-copy").is_hidden()

            # The call fails (the link drops): said in French, the old link still works.
            await page.route("**/api/v1/me/calendar-token", lambda route: route.abort())

            async def yes(d):
                asked.append(d.message)
                await d.accept()

            page.once("dialog", yes)
            await page.click("#calendar-token")
            said = await status_says(page, "Pas de connexion")
            assert "lien" in said, said
            assert (await c.get(old)).status_code == 200
            await page.unroute("**/api/v1/me/calendar-token")

            # Yes: the new link, a copy button, and that it replaced the old one.
            page.once("dialog", yes)
            await page.click("#calendar-token")
            await status_says(page, "Lien remplacé")
            link = await page.input_value("#calendar-url")
            assert link.startswith(f"{base}/api/v1/calendar/cal_") and link.endswith(".ics")
            assert (await c.get(old)).status_code == 404
            assert (await c.get(link)).status_code == 200
            await page.click("#calendar-copy")
            await status_says(page, "copié")
            assert await page.evaluate("navigator.clipboard.readText()") == link
            await ctx.close()
