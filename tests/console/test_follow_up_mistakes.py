"""A follow-up planned by mistake, in a real browser, in Spanish: a date in the past is
refused beside the date (it would be announced overdue at once), with what she typed kept;
planned again for a coming day it is listed; and one planned by mistake is cancelled, not
marked done or missed (which would count in the programme's completion figures)."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import answered_case, bearers, clinician_case_page, seeded_console


async def test_a_past_date_is_refused_and_a_mistaken_follow_up_cancelled(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        case = await answered_case(
            factory,
            prog,
            question="Chronic leg ulcer: dressing advice?",
        )
        ctx, page = await clinician_case_page(b, base, prog, case.id, lang="es")

        # Five days ago (the wrong month picked, say): refused beside the date, in Spanish.
        past = (utcnow() - timedelta(days=5)).strftime("%Y-%m-%dT09:00")
        await page.fill("#fu-due", past)
        await page.fill("#fu-description", "Medir la úlcera en la cura")
        await page.click("#followup-form button[type=submit]")
        said = page.locator("#fu-due-field-error")  # beside the date, not a passing toast
        await said.filter(has_text="no puede estar en el pasado").wait_for()
        assert await said.is_visible()
        assert await page.get_attribute("#fu-due", "aria-invalid") == "true"
        assert await page.input_value("#fu-description") == "Medir la úlcera en la cura"
        assert await page.locator("#followup-list li", has_text="Medir la úlcera").count() == 0

        coming = (utcnow() + timedelta(days=14)).strftime("%Y-%m-%dT09:00")
        await page.fill("#fu-due", coming)
        await page.click("#followup-form button[type=submit]")
        item = page.locator("#followup-list li", has_text="Medir la úlcera")
        await item.wait_for()
        # Final too: asked first; "no" leaves it open, "yes" cancels it.
        asked: list[str] = []
        answers = iter([False, True])

        async def answer(dialog):
            asked.append(dialog.message)
            await (dialog.accept() if next(answers) else dialog.dismiss())

        page.on("dialog", answer)
        cancel = item.locator("button", has_text="Anular (planificado por error)")
        await cancel.click()
        assert len(asked) == 1 and "«Medir la úlcera en la cura»" in asked[0], asked
        assert await item.locator(".actions button").count() == 3  # still open: its three endings
        await cancel.click()
        await item.filter(has_text="Cancelado").wait_for()
        assert len(asked) == 2
        assert await item.locator("button").count() == 0  # nothing left to do on it
        await ctx.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.get(
                "/api/v1/follow-ups", params={"case_id": case.id}, headers=h["clinician"]
            )
            r.raise_for_status()
            assert [f["status"] for f in r.json()["items"]] == ["cancelled"]
