"""Text past a box's limit is cut by the browser without a word: the console now says so
as soon as the box is full (the question holds 4,000 characters), in her language."""

from tests.console.support import ready, seeded_console, signed_in


async def test_a_box_full_to_its_limit_says_so(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="en-GB")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.fill("#question", "Cough for three weeks. " * 10)
        assert "at most" not in await page.inner_text("#status")
        await page.fill("#question", "x" * 5000)
        assert len(await page.input_value("#question")) == 4000
        await page.wait_for_function(
            "() => document.getElementById('status').textContent.includes('at most 4,000')"
        )
        said = await page.inner_text("#status")
        assert said == "This box holds at most 4,000 characters; anything past that is not kept."
        await ctx.close()
