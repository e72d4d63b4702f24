"""The console on a poor link (400 kbit/s, 400 ms latency: a clinic's satellite or 2G), and
the pages that depend on the notifications API (skipped while it is not deployed)."""

import time

import httpx
import pytest

from tests.console.support import (
    browser,
    console_server,
    need_chromium,
    ready,
    seed,
    sign_in,
    token,
)


async def test_a_cold_page_is_usable_within_seconds_on_a_slow_link(app, database_url):
    need_chromium()
    async with console_server(database_url) as server, browser() as b:
        base = f"http://{server.host}"
        prog = await seed(base)
        ctx = await b.new_context(viewport={"width": 360, "height": 740})
        page = await ctx.new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")
        cdp = await ctx.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        await cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 400,
                "downloadThroughput": 400_000 / 8,
                "uploadThroughput": 400_000 / 8,
            },
        )
        started = time.monotonic()
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new", within_ms=30000)
        took = time.monotonic() - started
        # Several round trips of 400 ms (document, stylesheet and modules, session refresh,
        # /me, specialties) and ~25 kB at 50 kB/s: a few seconds, not a minute.
        assert took < 12, f"{took:.1f} s to a usable new-case form"
        await ctx.close()


async def test_notification_preferences_round_trip(app, database_url):
    need_chromium()
    async with console_server(database_url) as server:
        base = f"http://{server.host}"
        prog = await seed(base)
        async with httpx.AsyncClient(base_url=base) as c:
            auth = {"Authorization": f"Bearer {await token(c, prog.email('clinician'))}"}
            probe = await c.get("/api/v1/me/notification-preferences", headers=auth)
        if probe.status_code in (404, 405):
            pytest.skip("the notifications API (issue 9, h-notify) is not in this build")
        async with browser() as b:
            ctx = await b.new_context()
            page = await ctx.new_page()
            await sign_in(page, base, prog.email("clinician"), "cases")
            await page.goto(f"{base}/preferences")
            await ready(page, "preferences")
            box = page.locator("input[name='note_signed:sms']")
            was = await box.is_checked()
            await box.set_checked(not was)
            await page.click("#prefs-form button[type=submit]")
            await page.wait_for_selector("#status:has-text('Saved')")
            await page.reload()
            await ready(page, "preferences")
            assert await page.locator("input[name='note_signed:sms']").is_checked() is (not was)
            await ctx.close()
