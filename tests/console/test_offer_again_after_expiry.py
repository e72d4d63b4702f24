"""An offer that lapsed unanswered can be sent again from the case page, in a real browser.
The programme's only dermatologist was asleep when the case was offered to her; the offer
expired and the case went unmatched. The coordinator reads on the candidates table that her
offer expired and that she can be asked again, ticks her, and offers it: the case is
offered again, to her, and her inbox holds the new offer."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from app.matching import jobs
from tests.console.support import bearers, ready, seeded_console, signed_in, submit_case


async def test_a_lapsed_offer_is_sent_again_from_the_case_page(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "coordinator", "specialist")
            case_id = await submit_case(c, h["clinician"], "Plaques on both shins for a year?")
            r = await c.post(
                f"/api/v1/cases/{case_id}/offers",
                headers=h["clinician"],
                json={"auto": True, "count": 3},
            )
            r.raise_for_status()
            assert len(r.json()["items"]) == 1, r.text  # the only dermatologist
            lapsed = r.json()["items"][0]["id"]
            clock.advance(timedelta(hours=13))  # a routine offer lasts 12 hours
            await jobs.expire_offers()
            r = await c.get(f"/api/v1/cases/{case_id}", headers=h["coordinator"])
            assert r.json()["status"] == "unmatched", r.text

        ctx = await b.new_context()
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        row = page.locator("#candidate-table tbody tr").filter(has_text="Dr Ana Ruiz")
        await row.wait_for()
        assert "Expired unanswered: can be asked again" in await row.inner_text()
        tick = row.locator("input[name=specialist_ids]")
        assert await tick.is_enabled()
        await tick.check()
        await page.click("#offer-selected")
        await page.locator("#candidate-table tbody tr", has_text="Pending").wait_for()
        assert await page.inner_text("#case-status") == "Offered"
        # Asked again while her offer is open: her box is not to be ticked.
        row = page.locator("#candidate-table tbody tr").filter(has_text="Dr Ana Ruiz")
        assert await row.locator("input[name=specialist_ids]").is_disabled()
        await ctx.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get("/api/v1/offers", params={"status": "pending"}, headers=h["specialist"])
            r.raise_for_status()
            assert [o["case_id"] for o in r.json()["items"]] == [case_id]

        # The first offer's emailed link, opened late: it says she was asked again, and the
        # new offer waits in the list below it.
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/offers/{lapsed}")
        await ready(page, "inbox")
        said = page.locator("#offer-state")
        await said.filter(has_text="you were offered the case again").wait_for()
        await page.locator(f"#offer-list [data-case-id='{case_id}']").wait_for()
        await ctx.close()
