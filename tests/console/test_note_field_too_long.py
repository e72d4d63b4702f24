"""A note field longer than the service takes is named beside the field as she writes, not
only as "1 field(s) are invalid" after a refused save; the rest of what she wrote waits on
her device until it can be saved, and is saved once she shortens that field."""

import httpx

from tests.console.support import assigned_case, bearers, ready, seeded_console, signed_in


async def test_an_over_long_field_is_named_and_the_note_saves_once_it_fits(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Ulcer on the shin for two months?")
        ctx = await b.new_context(viewport={"width": 360, "height": 740})
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.click("#note-new")
        await ready(page, "note")
        note_id = page.url.rsplit("/", 1)[1]

        await page.fill("#note-recommendations", "Biopsy of the edge at the district hospital.")
        # Pasted: a referral letter of 12,000 characters, where the service takes 10,000.
        await page.fill("#note-referral_advice", "x" * 12000)
        hint = page.locator("#note-referral_advice-problem")
        await hint.wait_for()
        assert "10000" in (await hint.inner_text()).replace(",", "")
        assert await page.get_attribute("#note-referral_advice", "aria-invalid") == "true"
        # Nothing of hers is cut: the field holds all she pasted.
        assert len(await page.input_value("#note-referral_advice")) == 12000
        await page.wait_for_selector("#save-state[data-state=error]")

        # Shortened, it saves, with the recommendations typed before.
        await page.fill("#note-referral_advice", "Refer if the edge bleeds. " * 300)
        assert await hint.is_hidden()
        await page.wait_for_selector("#save-state[data-state=saved]")
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/notes/{note_id}", headers=h["specialist"])
        note = r.json()
        assert note["recommendations"] == "Biopsy of the edge at the district hospital."
        assert note["referral_advice"].startswith("Refer if the edge bleeds.")
        await ctx.close()
