"""A refused save of what the facility has on site says which field and why, beside the
form and in her language, and keeps what she typed (it said only "Some fields need
correcting" for six seconds, naming none)."""

from tests.console.support import ready, seeded_console, signed_in


async def test_a_refused_resources_save_names_the_field_in_her_language(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="es-AR")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), lang="es")
        await page.goto(f"{base}/facility")
        await ready(page, "facility")
        long_tag = "ecografo-" + "x" * 300
        await page.fill("#res-text", "Rayos X, laboratorio básico, ecógrafo")
        await page.fill("#res-tags", f"rayos-x, {long_tag}")
        await page.click("#resources-form button[type=submit]")
        problem = page.locator("#resources-problem")
        await problem.wait_for()
        said = await problem.inner_text()
        assert "Etiquetas (separadas por comas)" in said, said
        assert "demasiado largo" in said, said
        assert await page.get_attribute("#res-tags", "aria-invalid") == "true"
        assert await page.input_value("#res-tags") == f"rayos-x, {long_tag}"
        assert await page.input_value("#res-text") == "Rayos X, laboratorio básico, ecógrafo"

        # Put right, it saves, and the refusal goes.
        await page.fill("#res-tags", "rayos-x, ecografo")
        await page.click("#resources-form button[type=submit]")
        await page.locator("#status", has_text="Guardado").wait_for()
        assert await problem.is_hidden()
        assert await page.get_attribute("#res-tags", "aria-invalid") is None
        await ctx.close()
