"""The quality page says which cases its figures are about, and a period given the wrong
way round is refused in words beside the filter, not shown as a programme that did
nothing (it used to answer zeros)."""

from datetime import timedelta

from app.core.clock import utcnow
from tests.console.support import ready, seeded_console, signed_in


async def test_the_quality_page_names_its_period_and_refuses_one_backwards(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        await factory.make_case(prog.org["id"], submitted_by_id=prog.people["clinician"]["id"])
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/quality")
        await ready(page, "quality")
        period = page.locator("#quality-period")
        await period.wait_for()
        assert await period.inner_text() == "All cases submitted so far"
        assert await page.get_attribute("#figure-cases .figure", "data-value") == "1"

        today = utcnow().date()  # the tests' clock
        await page.fill("#q-from", (today + timedelta(days=1)).isoformat())
        await page.fill("#q-to", (today - timedelta(days=6)).isoformat())
        await page.click("#quality-filter button[type=submit]")
        problem = page.locator("#quality-problem")
        await problem.wait_for()
        assert "To: must be after the start" in await problem.inner_text()
        assert await page.get_attribute("#q-to", "aria-invalid") == "true"
        assert await page.locator("#charts > *").count() == 0
        assert await period.is_hidden()

        await page.fill("#q-from", (today - timedelta(days=6)).isoformat())
        await page.fill("#q-to", today.isoformat())
        await page.click("#quality-filter button[type=submit]")
        await period.wait_for()
        assert (await period.inner_text()).startswith("Cases submitted from ")
        assert await problem.is_hidden()
        assert await page.get_attribute("#q-to", "aria-invalid") is None
        assert await page.get_attribute("#figure-cases .figure", "data-value") == "1"
        await ctx.close()
