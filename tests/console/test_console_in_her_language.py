"""A console whose browser asks for no language it has (a phone set to Haitian Creole)
speaks hers once she is signed in: the one her messages are written in, her facility's
here (Spanish), instead of English; the page she opened is loaded again in it, once.
A browser that asks for English keeps English, and a language she picks is kept. Someone
whose own language is English is not asked again on every page. In a real browser."""

from tests.console.support import ready, seeded_console, sign_in


async def test_a_phone_in_a_language_the_console_lacks_gets_hers(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="ht-HT")
        page = await ctx.new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")
        assert await page.get_attribute("html", "lang") == "es"
        assert await page.inner_text("h1") == "Casos"
        assert page.url == f"{base}/cases"
        # She picks English: kept, though her facility writes Spanish.
        await page.click(".langs a[hreflang=en]")
        await ready(page, "cases")
        assert await page.get_attribute("html", "lang") == "en"
        await page.goto(f"{base}/follow-ups")
        await ready(page, "followups")
        assert await page.get_attribute("html", "lang") == "en"

        # The coordinator's own is English (no facility, no profile): no page loaded
        # again, and not asked again at the next page.
        other = await (await b.new_context(locale="ht-HT")).new_page()
        asked = []
        other.on(
            "request",
            lambda r: asked.append(r.url) if "notification-preferences" in r.url else None,
        )
        await sign_in(other, base, prog.email("coordinator"), "queue")
        assert await other.get_attribute("html", "lang") == "en"
        await other.goto(f"{base}/rounds")
        await ready(other, "rounds")
        assert len(asked) == 1, asked


async def test_a_browser_that_asks_for_english_keeps_it(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await (await b.new_context(locale="en-GB")).new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.inner_text("h1") == "Cases"
