"""The audit page names who acted (it showed bare user ids), keeping the id at hand."""

import httpx

from tests.console.support import bearers, ready, seeded_console, sign_in, submit_case


async def test_the_audit_page_names_the_person_who_acted(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        clinician = prog.people["clinician"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            case_id = await submit_case(c, h["clinician"], "Wound not healing after 3 weeks")
            r = await c.get(f"/api/v1/cases/{case_id}", headers=h["clinician"])
            r.raise_for_status()
        ctx = await b.new_context()
        page = await ctx.new_page()
        await sign_in(page, base, prog.email("admin"), "users")
        await page.goto(f"{base}/admin/audit")
        await ready(page, "audit")
        row = page.locator("#audit-table tbody tr", has_text=case_id).first
        await row.wait_for()
        actor = row.locator("td").nth(1)
        await actor.filter(has_text=clinician["name"]).wait_for()
        assert await actor.get_attribute("title") == clinician["id"]
        await ctx.close()
