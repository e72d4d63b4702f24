"""A specialist answers an offer from the offered case's own page, in a real browser: the
summary (with what the facility has) is where she decides, so the accept and the decline
with a reason are there too, as in the inbox. An accept opens the whole case; a decline
goes back to the inbox, its reason kept."""

import httpx

from tests.console.support import (
    axe_violations,
    bearers,
    pending_offer,
    ready,
    seeded_console,
    settled,
    signed_in,
    submit_case,
)


async def test_an_offer_is_accepted_or_declined_from_the_case_it_offers(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        specialist_id = prog.people["specialist"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            taken = await submit_case(c, h["clinician"], "Umbilicated papules on the trunk?")
            await pending_offer(c, h, taken, specialist_id)
            refused = await submit_case(c, h["clinician"], "Nail discolouration for a year?")
            refused_offer = await pending_offer(c, h, refused, specialist_id)

        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))

        await page.goto(f"{base}/cases/{taken}")
        await ready(page, "case")
        await page.wait_for_selector("#offer:not([hidden])")
        assert await page.locator("#room").is_hidden()  # the summary, until she accepts
        assert await axe_violations(page) == []
        await page.click("#offer button.accept")
        await page.wait_for_selector("#room:not([hidden])")
        await ready(page, "case")
        assert page.url.endswith(f"/cases/{taken}")
        assert await page.locator("#offer").is_hidden()
        assert await page.inner_text("#case-status") == "Assigned"

        await page.goto(f"{base}/cases/{refused}")
        await ready(page, "case")
        await page.wait_for_selector("#offer:not([hidden])")
        await page.click("#offer button.secondary")
        await page.fill(f"#reason-{refused_offer}", "Out of the country until the 20th")
        await page.click("#offer form.decline button[type=submit]")
        await page.wait_for_url("**/inbox")
        await ready(page, "inbox")
        await settled(page)
        assert await page.locator(f"[data-offer-id='{refused_offer}']").count() == 0
        await ctx.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "specialist")
            r = await c.get(f"/api/v1/offers/{refused_offer}", headers=h["specialist"])
            r.raise_for_status()
            offer = r.json()
            r = await c.get(f"/api/v1/cases/{taken}", headers=h["specialist"])
            r.raise_for_status()
        assert (offer["status"], offer["decline_reason"]) == (
            "declined",
            "Out of the country until the 20th",
        )
        assert r.json()["assigned_specialist_id"] == specialist_id
