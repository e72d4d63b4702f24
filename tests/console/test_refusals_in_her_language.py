"""What the service refuses is said in the viewer's language, in a real browser: a field by
its label and what is wrong with it (the problem's `code` and `limit`), and a refusal a
person meets often by its kind; a password change says it went through."""

import httpx

from tests.console.support import (
    PASSWORD,
    assigned_case,
    bearers,
    ready,
    seeded_console,
    signed_in,
)


async def test_refusals_are_said_in_spanish_and_a_password_change_is_confirmed(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Plaque on the cheek: what is it?")
            r = await c.post(
                f"/api/v1/cases/{case_id}/notes",
                headers=h["specialist"],
                json={
                    "kind": "consult",
                    "assessment": "Discoid lupus possible.",
                    "recommendations": "Biopsy if available; sun protection.",
                },
            )
            note = r.json()["id"]
            r = await c.post(
                f"/api/v1/notes/{note}/sign", headers={**h["specialist"], "If-Match": '"1"'}
            )
            r.raise_for_status()

        ctx = await b.new_context(locale="es-AR")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), "cases", lang="es")
        assert await page.get_attribute("html", "lang") == "es"
        # An outcome of spaces only: the field by its label, the reason in Spanish.
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.fill("#outcome", "   ")
        await page.click("#close-form button[type=submit]")
        said = page.locator("#status")
        await said.filter(has_text="Algunos campos deben corregirse").wait_for()
        text = await said.inner_text()
        assert "al menos 1 carácter" in text and "String should" not in text, text
        assert await page.get_attribute("#outcome", "aria-invalid") == "true"

        # A wrong current password, said in Spanish; a right one, confirmed after sign-in.
        await page.goto(f"{base}/profile")
        await ready(page, "profile")
        await page.fill("#current_password", "not-my-password-1")
        await page.fill("#new_password", "a-new-password-22")
        await page.click("#password-form button[type=submit]")
        await said.filter(has_text="La contraseña actual no es correcta.").wait_for()
        await page.fill("#current_password", PASSWORD)
        await page.click("#password-form button[type=submit]")
        await page.wait_for_url("**/signin?password_changed=1")
        await page.wait_for_selector("body[data-ready=signin]")
        assert "Contraseña cambiada" in await said.inner_text()
        await ctx.close()
