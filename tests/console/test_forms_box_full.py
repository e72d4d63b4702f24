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


async def test_on_a_phone_the_full_box_says_so_beside_it(app, factory):
    """On a phone the status line is a long form's length above the box she pasted into:
    a history pasted past the summary's 20,000 characters was cut mid-word with nothing
    in view to say so. The words now stand under the box too, and go once it has room."""
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(viewport={"width": 390, "height": 844}, locale="es-BO")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), lang="es")
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.fill("#summary", "Fiebre desde hace 3 días, tos, conjuntivitis. " * 1500)
        assert len(await page.input_value("#summary")) == 20000
        beside = page.locator("#summary-full")
        await beside.wait_for()
        assert "20.000" in await beside.inner_text()
        assert await beside.is_visible()
        assert "summary-full" in (await page.get_attribute("#summary", "aria-describedby") or "")
        await page.fill("#summary", "Fiebre desde hace 3 días.")
        await beside.wait_for(state="detached")
        assert "summary-full" not in (
            await page.get_attribute("#summary", "aria-describedby") or ""
        )
        await ctx.close()
