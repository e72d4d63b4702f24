"""A specialty nobody can take a case in now is said so on the intake form, in the list and
under it once chosen, in a real browser: before, her case went to it and waited, unmatched,
while the coordinators looked for someone, and she learnt it only then."""

import httpx

from tests.console.support import bearers, ready, seeded_console, signed_in


async def test_a_specialty_with_nobody_now_is_said_before_she_sends(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            listed = (await c.get("/api/v1/specialties", headers=h["clinician"])).json()
        ready_now = {s["code"]: s["ready_specialists"] for s in listed}
        assert ready_now["dermatology"] >= 1 and ready_now["nephrology"] == 0

        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        options = dict(
            await page.eval_on_selector_all(
                "#specialty option", "os => os.map(o => [o.value, o.textContent])"
            )
        )
        assert options["dermatology"] == "Dermatology"
        assert options["nephrology"] == "Nephrology — no specialist yet"
        hint = page.locator("#specialty-nobody")
        assert await hint.is_hidden()
        assert await page.get_attribute("#specialty", "aria-describedby") is None

        await page.select_option("#specialty", "nephrology")
        await hint.wait_for()
        assert (await hint.inner_text()).startswith(
            "No volunteer specialist takes cases in this specialty yet"
        )
        described = (await page.get_attribute("#specialty", "aria-describedby") or "").split()
        assert "specialty-nobody" in described
        await page.select_option("#specialty", "dermatology")
        await hint.wait_for(state="hidden")
        # Not described by a hint that is hidden (a screen reader would still read it).
        assert await page.get_attribute("#specialty", "aria-describedby") is None

        # Kept with the draft: the page opened again says it again.
        await page.select_option("#specialty", "nephrology")
        await page.fill("#question", "Rising creatinine after a course of NSAIDs?")
        await page.wait_for_function(
            "() => Object.keys(localStorage).some((k) => k.startsWith('console:case-draft:'))"
        )
        await page.reload()
        await ready(page, "case_new")
        assert await page.input_value("#specialty") == "nephrology"
        await hint.wait_for()
        await ctx.close()
