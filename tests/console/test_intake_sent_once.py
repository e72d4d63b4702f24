"""A second tap on "Submit case" makes no second case: not while the case is on its way, nor
in the moment after it was sent while the next page loads (on a slow link the form stayed on
screen, enabled, for half a second: a tap there sent the form again with a new key and made a
second case without the photo, and she was taken to that one)."""

import asyncio
from typing import Any

import httpx

from tests.console.support import bearers, png, ready, seeded_console, signed_in


async def _held(ctx: Any, pattern: str, method: str) -> tuple[asyncio.Event, asyncio.Event]:
    """Requests matching `pattern` and `method` wait (seen: `came`) until `go` is set."""
    came, go = asyncio.Event(), asyncio.Event()

    async def hold(route: Any) -> None:
        if route.request.method != method or route.request.resource_type not in (
            "fetch",
            "xhr",
        ):
            await route.continue_()
            return
        came.set()
        await go.wait()
        await route.continue_()

    await ctx.route(pattern, hold)
    return came, go


async def test_a_double_tap_sends_one_case_with_its_photo(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.select_option("#specialty", "dermatology")
        await page.fill("#question", "Annular plaque on the forearm for three weeks: tinea?")
        await page.fill("#patient-reference", "HSR-7781")
        await page.check("#consent")
        await page.set_input_files(
            "#photo", files=[{"name": "arm.png", "mimeType": "image/png", "buffer": png()}]
        )
        await page.wait_for_selector("#photo-preview:not([hidden])")
        submit = page.locator("#case-form button[type=submit]")

        # The case on its way: a second tap does nothing.
        sent, let_case = await _held(ctx, "**/api/v1/cases", "POST")
        # The next page's HTML, fetched before the form goes: held too.
        next_page, let_page = await _held(ctx, "**/cases/case_*", "GET")
        await submit.click()
        await asyncio.wait_for(sent.wait(), 15)
        assert await submit.is_disabled()
        await submit.click(force=True)
        await page.keyboard.press("Enter")
        let_case.set()
        # Sent (with its photo); the form still on screen while the next page loads.
        await asyncio.wait_for(next_page.wait(), 15)
        assert await page.locator("#case-form").is_visible()
        assert await submit.is_disabled()
        # Should the next page not come, the way to the case is on the spent form.
        to_case = page.locator("#draft-state a")
        assert (await to_case.get_attribute("href") or "").startswith("/cases/case_")
        await submit.click(force=True)
        await page.focus("#question")
        await page.keyboard.press("Enter")
        let_page.set()
        await page.wait_for_url("**/cases/case_*")
        await ready(page, "case")

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            cases = (await c.get("/api/v1/cases", headers=h["clinician"])).json()["items"]
            assert [x["patient"]["reference"] for x in cases] == ["HSR-7781"]
            assert page.url.endswith(f"/cases/{cases[0]['id']}")
            assert await to_case.count() == 0  # the case's page replaced the form
            r = await c.get(f"/api/v1/cases/{cases[0]['id']}/attachments", headers=h["clinician"])
            assert [a["filename"] for a in r.json()["items"]] == ["arm.png"]
        await ctx.close()
