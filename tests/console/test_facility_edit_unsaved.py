"""A coordinator changing one facility and then opening another, or closing the form, is
asked before what she typed is thrown away (it was replaced without a word), in her
language; saying no keeps her on her text."""

from tests.console.support import ready, seeded_console, signed_in


async def test_unsaved_changes_are_not_dropped_unasked(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        other = await factory.make_org(name="Hôpital de Kimpese")
        ctx = await b.new_context(locale="fr-FR")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"), lang="fr")
        await page.goto(f"{base}/admin/facilities")
        await ready(page, "facilities")
        asked: list[str] = []
        answers = iter([False, True, False, True])

        async def answer(dialog):
            asked.append(dialog.message)
            await (dialog.accept() if next(answers) else dialog.dismiss())

        page.on("dialog", answer)
        ours = page.locator(f"#facility-table tr[data-org-id='{prog.org['id']}'] button.edit")
        theirs = page.locator(f"#facility-table tr[data-org-id='{other.id}'] button.edit")
        await ours.click()
        await page.locator("#facility-edit-form").wait_for()
        typed = "Radiographie, laboratoire de base, échographe"
        await page.fill("#e-text", typed)

        # Another facility: asked, and "no" keeps her text and her facility.
        await theirs.click()
        await page.wait_for_function("() => true")
        assert len(asked) == 1 and prog.org["name"] in asked[0], asked
        assert await page.input_value("#e-text") == typed
        # Asked again, "yes": the other facility opens.
        await theirs.click()
        await page.locator("#facility-edit-title", has_text="Kimpese").wait_for()
        assert len(asked) == 2
        assert await page.input_value("#e-text") != typed

        # Nothing typed since it opened: no question.
        await ours.click()
        await page.locator("#facility-edit-title", has_text=prog.org["name"]).wait_for()
        assert len(asked) == 2
        # Closing with text typed: asked; "no" keeps the form open, "yes" closes it.
        await page.fill("#e-text", typed)
        await page.click("#edit-close")
        assert len(asked) == 3
        assert await page.locator("#facility-edit").is_visible()
        await page.click("#edit-close")
        assert len(asked) == 4
        await page.locator("#facility-edit").wait_for(state="hidden")
        await ctx.close()
