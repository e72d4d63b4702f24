"""A coordinator reads the programme's figures for one facility on the quality page, as the
API gives them (`organization_id`): the page offered only a period and a specialty, so a
facility's response times or local attendance could be read only through the API."""

from tests.console.support import ready, seeded_console, signed_in


async def test_a_coordinator_reads_one_facilitys_figures(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        other = await factory.make_org(name="Mwangaza Health Centre", timezone="Africa/Nairobi")
        await factory.make_case(prog.org["id"], submitted_by_id=prog.people["clinician"]["id"])
        for _ in range(2):
            await factory.make_case(other.id)
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/quality")
        await ready(page, "quality")
        figure = "#figure-cases .figure"
        await page.locator("#quality-period").wait_for()
        assert await page.get_attribute(figure, "data-value") == "3"
        await page.select_option("#q-organization", label="Mwangaza Health Centre")
        await page.click("#quality-filter button[type=submit]")
        await page.wait_for_function(
            "() => document.querySelector('#figure-cases .figure')?.dataset.value === '2'"
        )
        assert "Mwangaza Health Centre" in await page.inner_text("#quality-period")
        await page.select_option("#q-organization", label="Hospital San Roque")
        await page.click("#quality-filter button[type=submit]")
        await page.wait_for_function(
            "() => document.querySelector('#figure-cases .figure')?.dataset.value === '1'"
        )
        await ctx.close()
