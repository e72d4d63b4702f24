"""A page whose first read of the signed-in person (/me) is dropped by the link says so and
is marked ready, instead of waiting for ever: until a page is ready every submit is held
("still loading", hold.js), so one that never became ready held every form for good."""

from tests.console.support import ready, seeded_console, sign_in


async def test_a_dropped_me_is_said_and_the_page_does_not_hang(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context()
        page = await ctx.new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")

        async def drop(route):
            await route.abort("internetdisconnected")

        await page.route("**/api/v1/me", drop)
        await page.goto(f"{base}/cases/new")
        await page.wait_for_selector("body[data-ready]")
        said = await page.inner_text("#main .error")
        assert "connection" in said.lower(), said
        await page.unroute("**/api/v1/me", drop)
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await ctx.close()
