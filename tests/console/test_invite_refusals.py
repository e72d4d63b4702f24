"""Inviting someone from the People page, in Spanish: each refusal is said in her language,
field by field (the service used to be quoted in English: "required for clinicians",
"already registered"), and the line about the last invitation sent goes, so a refusal is
never read beside "Invitación enviada"."""

from tests.console.support import ready, seeded_console, signed_in


async def test_invitation_refusals_are_said_in_her_language(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="es-AR")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/admin/users")
        await ready(page, "users")
        state = page.locator("#invite-state")

        await page.fill("#inv-email", "enfermera.nueva@console.example.org")
        await page.select_option("#inv-role", "specialist")
        await page.click("#invite-form button[type=submit]")
        await page.wait_for_selector("#invite-state:has-text('Invitación enviada')")

        # A clinician without her facility.
        await page.fill("#inv-email", "otra@console.example.org")
        await page.select_option("#inv-role", "clinician")
        await page.click("#invite-form button[type=submit]")
        # Said beside the form, where it stays until she changes something.
        await page.wait_for_selector("#invite-problem:has-text('Centro')")
        said = await page.inner_text("#invite-problem")
        assert said == "Algunos campos deben corregirse\nCentro: obligatorio", said
        assert await page.get_attribute("#inv-org", "aria-invalid") == "true"
        assert await state.inner_text() == ""

        # An address that already has an account.
        await page.fill("#inv-email", prog.email("specialist"))
        await page.select_option("#inv-role", "specialist")
        await page.click("#invite-form button[type=submit]")
        await page.wait_for_selector("#invite-problem:has-text('ya tiene una cuenta')")
        said = await page.inner_text("#invite-problem")
        assert "Correo electrónico: ya tiene una cuenta" in said, said
        assert "already" not in said and "exists" not in said, said
        assert await page.get_attribute("#inv-email", "aria-invalid") == "true"
        assert await page.input_value("#inv-email") == prog.email("specialist")
        await ctx.close()
