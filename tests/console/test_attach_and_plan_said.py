"""On the case page, in Spanish on a phone: "Adjuntar" with no file chosen says, beside the
file input, to choose one first (and sends nothing); a photo attached, and a follow-up
planned, are each confirmed in words, not only by a list that changes."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, clinician_case_page, png, seeded_console, status_says


async def test_attach_without_a_file_is_said_and_each_success_confirmed(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
        case = await factory.make_case(
            prog.org["id"],
            status="assigned",
            question="Lesión en el antebrazo: ¿biopsia?",
            submitted_by_id=prog.people["clinician"]["id"],
            assigned_specialist_id=prog.people["specialist"]["id"],
        )
        ctx, page = await clinician_case_page(b, base, prog, case.id, lang="es", phone=True)

        await page.click("#attach-form button[type=submit]")
        beside = page.locator("#attach-form .field-problem")
        await beside.wait_for()
        assert "Elija un archivo" in await beside.inner_text()
        assert await page.get_attribute("#attach-file", "aria-invalid") == "true"

        await page.set_input_files(
            "#attach-file", files=[{"name": "brazo.png", "mimeType": "image/png", "buffer": png()}]
        )
        assert await beside.is_hidden()  # chosen: the line goes
        await page.click("#attach-form button[type=submit]")
        await status_says(page, "Archivo adjuntado")
        await page.wait_for_selector("#attachment-list img")
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case.id}/attachments", headers=h["clinician"])
            assert len(r.json()["items"]) == 1

        await page.fill("#fu-due", (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT09:00"))
        await page.fill("#fu-description", "Control de la cicatriz")
        await page.click("#followup-form button[type=submit]")
        said = await status_says(page, "Seguimiento planificado")
        assert "Control de la cicatriz" in said, said
        await ctx.close()
