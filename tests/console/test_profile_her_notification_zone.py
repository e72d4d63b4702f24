"""/profile names the zone her notifications use (GET /me/notification-preferences), by its
name in words, and says where it comes from: a clinician in London whose facility is in
Salta reads Salta's, "your facility's", not her browser's; once she chooses one, hers."""

import httpx

from tests.console.support import bearers, london_page, ready, seeded_console, signed_in


async def test_the_profile_names_the_zone_her_notifications_use(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        _, page = await london_page(b)
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/profile")
        await ready(page, "profile")
        facts = await page.inner_text("#me")
        assert (
            "Time zone of your notifications\nSalta, Argentina Standard Time (your facility's)"
            in facts
        ), facts
        assert "London" not in facts, facts

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.put(
                "/api/v1/me/notification-preferences",
                headers=h["clinician"],
                json={"timezone": "Asia/Kolkata"},
            )
            r.raise_for_status()
        await page.reload()
        await ready(page, "profile")
        facts = await page.inner_text("#me")
        assert (
            "Time zone of your notifications\nKolkata, India Standard Time (chosen by you)" in facts
        ), facts
