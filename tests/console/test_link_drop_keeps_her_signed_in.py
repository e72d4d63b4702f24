"""A link that drops while a page opens does not sign her out: the page says there is no
connection and offers to try again, and her session goes on when the link returns. (It
sent her to the sign-in page, which asked for her password even once the link was back.)
In a real browser."""

import asyncio
from typing import Any

from tests.console.support import ready, seeded_console, sign_in


async def test_a_refresh_lost_to_the_link_says_so_and_the_page_comes_back(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await (await b.new_context(viewport={"width": 360, "height": 740})).new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")

        async def dropped(route):
            await route.abort("internetdisconnected")

        await page.route("**/session/refresh", dropped)
        await page.goto(f"{base}/follow-ups")
        await page.wait_for_selector("#page-unreached")
        assert "/signin" not in page.url, page.url
        assert "No connection" in await page.inner_text("#page-unreached")
        await page.unroute("**/session/refresh", dropped)
        await page.click("#page-again")
        await ready(page, "followups")
        assert page.url.startswith(f"{base}/follow-ups"), page.url


async def test_the_sign_in_page_lets_her_through_while_her_session_lasts(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await (await b.new_context()).new_page()
        await sign_in(page, base, prog.email("specialist"), "inbox")
        await page.goto(f"{base}/signin?next=/follow-ups")
        await ready(page, "followups")
        assert page.url.startswith(f"{base}/follow-ups"), page.url
        # Signed out, the sign-in page stays.
        await page.click("#signout")
        await page.wait_for_url(lambda u: "/signin" in u)
        await page.goto(f"{base}/signin")
        await ready(page, "signin")
        await page.wait_for_load_state("networkidle")  # its check of a session has answered
        assert page.url == f"{base}/signin"


async def test_a_sign_out_the_link_lost_is_not_undone_by_the_sign_in_page(app, factory):
    """Her sign-out's request never reached the server (a shared phone on a lossy link): the
    sign-in page, even sent there by a page, must not sign her straight back in."""
    async with seeded_console(app, factory) as (base, b, prog):
        page = await (await b.new_context()).new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")

        async def lost(route):
            await route.abort("internetdisconnected")

        await page.route("**/session/end", lost)
        await page.click("#signout")
        await page.wait_for_url(lambda u: "/signin" in u)
        for address in ("/signin", "/signin?next=/cases", "/cases"):
            await page.goto(f"{base}{address}")
            await ready(page, "signin")
            await page.wait_for_load_state("networkidle")
            assert "/signin" in page.url, (address, page.url)


async def test_a_page_the_link_dropped_is_not_gone_to_after_she_went_elsewhere(app, factory):
    """Her tap on Follow-ups fails; when the link returns the page is asked for again, slowly;
    meanwhile she goes to Facility. The late answer must not take her off it."""
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context()
        page = await ctx.new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")
        asked: list[Any] = []
        release = asyncio.Event()

        async def slow_link(route):
            if route.request.resource_type != "fetch":
                await route.continue_()
                return
            asked.append(route)
            if len(asked) == 1:
                await route.abort("internetdisconnected")
                return
            await release.wait()  # the retry, answered only after she has moved on
            await route.continue_()

        await page.route("**/follow-ups", slow_link)
        await page.click("#nav a[href='/follow-ups']")
        await page.wait_for_selector("#status:has-text('No connection')")
        async with page.expect_request(lambda r: r.url.endswith("/follow-ups")):
            await ctx.set_offline(True)  # the link comes back: the page is asked for again
            await ctx.set_offline(False)
        await page.click("#nav a[href='/facility']")
        await ready(page, "facility")
        release.set()
        await page.wait_for_load_state("networkidle")
        assert page.url == f"{base}/facility"
        assert await page.get_attribute("body", "data-ready") == "facility"
