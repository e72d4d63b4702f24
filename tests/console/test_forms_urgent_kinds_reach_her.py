"""/preferences says when a kind a specialist must act on within minutes (a new offer, an
offer about to expire) has no channel outside the console that can reach her: beside its
row, as she unticks the last one. And SMS, ticked or not, is said to reach nobody while no
verified phone number is on file for her."""

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, ready, seeded_console, signed_in

CONSOLE_ONLY = "you learn of this only while the console is open"
NO_PHONE = "no verified phone number is on file for you"


async def test_an_offer_that_would_reach_her_only_in_the_console_is_said(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = (await bearers(c, prog, "specialist"))["specialist"]
            r = await c.put(
                "/api/v1/me/notification-preferences",
                headers=h,
                json={
                    "channels": {
                        "offer": ["email", "sms", "in_app"],
                        "offer_expiring": ["push", "in_app"],
                    }
                },
            )
            r.raise_for_status()
            assert r.json()["phone"] is None
        ctx = await b.new_context(locale="en-GB", viewport={"width": 360, "height": 740})
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/preferences")
        await ready(page, "preferences")

        sms = page.locator("#prefs-sms-note")
        assert NO_PHONE in await sms.inner_text()
        assert await sms.is_visible()
        described = await page.get_attribute("[name='offer:sms']", "aria-describedby")
        assert "prefs-sms-note" in (described or "")
        offer = page.locator("#prefs-note-offer")
        assert await offer.is_hidden()  # email reaches her
        assert await page.locator("#prefs-note-offer_expiring").is_hidden()  # push does

        # Email off: SMS is still ticked, but with no phone it reaches nobody.
        await page.uncheck("[name='offer:email']")
        await offer.wait_for()
        assert CONSOLE_ONLY in await offer.inner_text()
        assert "prefs-note-offer" in await page.get_attribute(
            "[name='offer:in_app']", "aria-describedby"
        )
        assert await page.locator("#prefs-note-offer_expiring").is_hidden()
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360

        await page.check("[name='offer:push']")
        await offer.wait_for(state="hidden")
        await page.uncheck("[name='offer_expiring:push']")
        await page.locator("#prefs-note-offer_expiring").wait_for()
        await ctx.close()
