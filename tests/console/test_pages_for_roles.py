"""A page for other roles, reached by typing its address, says so instead of showing forms
the API would refuse; on a case, an interpreter is not offered follow-up planning (the
API's rule), and the patient line shows only what was given. In a real browser."""

import httpx

from tests.console.support import (
    add_person,
    bearers,
    pending_offer,
    ready,
    seeded_console,
    sign_in,
)


async def test_pages_and_forms_follow_the_role(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            interpreter = await add_person(c, "yupanqui", "Rosa Yupanqui", "interpreter")
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            r = await c.post(
                "/api/v1/cases",
                headers=h["clinician"],
                json={
                    "specialty": "dermatology",
                    "urgency": "routine",
                    "question": "Scaling of the soles: what is it?",
                    "patient": {"reference": "HSR-4410"},
                    "languages": ["qu"],
                    "interpreter_needed": True,
                    "consent": {"obtained": True, "method": "verbal"},
                },
            )
            r.raise_for_status()
            case_id = r.json()["id"]
            offer = await pending_offer(c, h, case_id, prog.people["specialist"]["id"])
            r = await c.post(f"/api/v1/offers/{offer}/accept", headers=h["specialist"])
            r.raise_for_status()
            r = await c.post(
                f"/api/v1/cases/{case_id}/participants",
                headers=h["coordinator"],
                json={"user_id": interpreter["id"], "role": "interpreter"},
            )
            r.raise_for_status()

        ctx = await b.new_context()
        page = await ctx.new_page()
        await sign_in(page, base, "yupanqui@console.example.org", "cases")
        for path, name in (
            ("/admin/users", "users"),
            ("/queue", "queue"),
            ("/cases/new", "case_new"),
        ):
            await page.goto(base + path)
            await ready(page, name)
            assert await page.locator("#not-for-role").is_visible(), path
            assert await page.locator("main form").count() == 0, path
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#followups:not([hidden])")
        assert await page.locator("#followup-form").is_hidden()
        facts = await page.inner_text("#case-facts")
        assert "HSR-4410" in facts and "?" not in facts.split("HSR-4410")[1].split("\n")[0]
        await ctx.close()

        ctx = await b.new_context()
        page = await ctx.new_page()
        await sign_in(page, base, prog.email("coordinator"), "queue")
        await page.goto(f"{base}/admin/clients")
        await ready(page, "clients")
        assert await page.locator("#not-for-role").is_visible()
        await page.goto(f"{base}/admin/users")  # hers: the page works
        await ready(page, "users")
        assert await page.locator("#not-for-role").count() == 0
        await ctx.close()
