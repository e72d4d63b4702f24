"""The facility's rating of the advice starts unchosen (a "5" set before she chooses would
bias the programme's outcome data); sending it without one is refused beside the field, in
her language, and nothing is sent; chosen, it is sent."""

import httpx

from tests.console.support import (
    answered_case,
    bearers,
    clinician_case_page,
    seeded_console,
    status_says,
)


async def test_usefulness_is_hers_to_choose(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        case = await answered_case(
            factory,
            prog,
            question="Chronic leg ulcer: dressing advice?",
        )
        ctx, page = await clinician_case_page(b, base, prog, case.id, lang="es", phone=True)
        assert await page.input_value("#fb-usefulness") == ""

        await page.fill("#fb-comment", "Muy claro.")
        await page.click("#feedback-form button[type=submit]")
        beside = page.locator("#feedback-form .field-problem")
        await beside.wait_for()
        assert "Elija una puntuación" in await beside.inner_text()
        assert await page.get_attribute("#fb-usefulness", "aria-invalid") == "true"
        assert await page.input_value("#fb-comment") == "Muy claro."
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.get(f"/api/v1/cases/{case.id}/record", headers=h["clinician"])
            assert not [e for e in r.json()["entries"] if e["type"] == "feedback"]

        await page.select_option("#fb-usefulness", "3")
        assert await beside.is_hidden()
        await page.click("#feedback-form button[type=submit]")
        await status_says(page, "Gracias")
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case.id}/record", headers=h["clinician"])
            given = [e for e in r.json()["entries"] if e["type"] == "feedback"]
            assert [g["usefulness"] for g in given] == [3]
        await ctx.close()
