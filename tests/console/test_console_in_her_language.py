"""A console whose browser asks for no language it has (a phone set to Haitian Creole)
speaks hers once she is signed in: the one her messages are written in, her facility's
here (Spanish), instead of English; the page she opened is loaded again in it, once. What
was found for her is kept for the browser session and forgotten at sign-out: the next
person on a shared phone gets hers (the coordinator's English), and is asked once, not on
every page. A browser that asks for English keeps English, and a language she picks is
kept. In a real browser."""

from tests.console.support import ready, seeded_console, signed_in


async def test_a_shared_phone_in_a_language_the_console_lacks_gets_each_hers(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="ht-HT")
        page = await ctx.new_page()
        asked = []
        page.on(
            "request",
            lambda r: asked.append(r.url) if "notification-preferences" in r.url else None,
        )
        await signed_in(page, base, prog.email("clinician"), "cases")
        assert await page.get_attribute("html", "lang") == "es"
        assert await page.inner_text("h1") == "Casos"
        assert page.url == f"{base}/cases"
        await page.goto(f"{base}/follow-ups")
        await ready(page, "followups")
        assert await page.get_attribute("html", "lang") == "es"
        assert len(asked) == 1, asked  # found once for the session

        # Signed out, the next person on this phone is asked for hers: English.
        await page.click("#signout")
        await page.wait_for_url(f"{base}/signin")
        await signed_in(page, base, prog.email("coordinator"), "queue")
        assert await page.get_attribute("html", "lang") == "en"
        await page.goto(f"{base}/rounds")
        await ready(page, "rounds")
        assert await page.get_attribute("html", "lang") == "en"
        assert len(asked) == 2, asked

        # A language she picks is hers to keep, whoever's language was found.
        await page.click(".langs a[hreflang=fr]")
        await ready(page, "rounds")
        assert await page.get_attribute("html", "lang") == "fr"


async def test_a_browser_that_asks_for_english_keeps_it(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await (await b.new_context(locale="en-GB")).new_page()
        await signed_in(page, base, prog.email("clinician"), "cases")
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.inner_text("h1") == "Cases"
