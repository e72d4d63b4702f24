"""A case sent just as the link drops: the case went, but its page could not be fetched.
The form says it was sent, with a link to it, in view; and when the link returns she is
taken to the case's page without doing anything. (The form stayed, spent, with a notice
that faded and an "Open the case" out of view.) In a real browser."""

from tests.console.support import ready, seeded_console, signed_in


async def test_the_case_page_follows_when_the_link_returns(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(viewport={"width": 360, "height": 740})
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.select_option("#specialty", "dermatology")
        await page.fill("#question", "Itchy plaques on both shins for a month?")
        await page.fill("#patient-reference", "HSR-3301")
        await page.check("#consent")

        async def dropped(route):  # the case's page, fetched once the case has gone
            if route.request.resource_type == "fetch" and "/api/" not in route.request.url:
                await route.abort("internetdisconnected")
            else:
                await route.continue_()

        await page.route("**/cases/case_*", dropped)
        await page.click("#case-form button[type=submit]")
        said = page.locator("#draft-state a")
        await said.wait_for()
        case_path = await said.get_attribute("href")
        assert case_path and case_path.startswith("/cases/case_"), case_path
        in_view = (
            "(a) => { const r = a.getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= innerHeight; }"
        )
        assert await said.is_visible() and await said.evaluate(in_view)
        assert page.url == f"{base}/cases/new"

        await page.unroute("**/cases/case_*", dropped)
        await ctx.set_offline(True)  # the browser hears the link go, then come back
        await ctx.set_offline(False)
        await ready(page, "case")
        assert page.url == f"{base}{case_path}"
