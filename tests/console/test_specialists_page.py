"""The specialists page says when nobody is left to verify, in words below the filter (it
used to be a caption above an empty table's headings), and its columns are headed by names,
not by a form's hint ("Languages (comma separated, ...)"). Everyone is listed until she
ticks "only those to verify"."""

from tests.console.support import ready, seeded_console, signed_in


async def test_nobody_to_verify_is_said_and_the_columns_are_named(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"), "queue")
        await page.click("#nav a[href='/specialists']")
        await ready(page, "specialists")
        # Everyone is listed at first; the specialist is verified, so nobody waits for it.
        row = page.locator(
            f"#specialist-table tr[data-specialist-id='{prog.people['specialist']['id']}']"
        )
        await row.wait_for()
        assert await page.locator("#specialist-none").is_hidden()
        await page.check("#only-unverified")
        await page.wait_for_selector("#specialist-none:not([hidden])")
        assert await page.inner_text("#specialist-none") == "Nobody to show."
        assert await page.locator("#specialist-table").is_hidden()

        await page.uncheck("#only-unverified")
        await row.wait_for()
        assert await page.locator("#specialist-none").is_hidden()
        heads = await page.locator("#specialist-table thead th").all_inner_texts()
        assert heads[:4] == ["Name", "Specialties", "Languages", "Time zone"]
        await ctx.close()
