"""A case's facts show only what was given: a case sent without a summary (it is optional)
shows no "Summary" label with nothing beside it. In a real browser."""

import httpx

from tests.console.support import bearers, ready, seeded_console, signed_in, submit_case


async def test_a_case_without_a_summary_shows_no_empty_summary(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            case_id = await submit_case(c, h["clinician"], "Itchy scalp in three siblings?")
        page = await (await b.new_context(locale="en-GB")).new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        labels = [await dt.inner_text() for dt in await page.locator("#case-facts dt").all()]
        assert "Specialty" in labels and "Languages" in labels, labels
        assert "Summary" not in labels, labels
        values = [await dd.inner_text() for dd in await page.locator("#case-facts dd").all()]
        assert all(v.strip() for v in values), list(zip(labels, values, strict=True))
