"""The live badge tells the truth when the browser loses its link, in a real browser: it
says offline at once (a dead socket can linger for minutes), and live again when the link
returns (what was missed meanwhile: tests/console/test_inbox_resume.py)."""

from tests.console.support import seeded_console, signed_in


async def test_the_inbox_says_offline_when_the_browser_does_and_comes_back(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"), "inbox")
        await page.wait_for_selector("#link-state[data-state=open]")
        await ctx.set_offline(True)
        await page.wait_for_selector("#link-state[data-state=offline]", timeout=5000)
        await ctx.set_offline(False)
        await page.wait_for_selector("#link-state[data-state=open]", timeout=20000)
        assert await page.inner_text("#link-state") == "Live"
        await ctx.close()
