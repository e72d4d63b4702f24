"""A webhook URL the service refuses, in a real browser: the reason is said in her language,
once, beside the form (the URL field marked), and stays there until she changes something.
It used to pass in the status line, in English and twice ("The URL must use https. — URL:
The URL must use https."), and be gone after 6 seconds, leaving a red border."""

from app.core.config import get_settings
from tests.console.support import ready, seeded_console, signed_in
from tests.partners.reserved_names import invalid_names_never_resolve

SPANISH = [
    ("http://127.0.0.1:9000/hook", "URL: debe empezar por https://"),
    ("https://hooks.invalid/hook", "URL: servidor no encontrado"),
    ("https://10.0.0.5/hook", "URL: no es una dirección pública"),
    ("https://me:pw@93.184.215.14/hook", "URL: no debe contener una contraseña"),
]


async def _webhooks_page(b, base, prog, locale):
    ctx = await b.new_context(locale=locale)
    await ctx.clock.install()  # the page's timers: moved on below, not waited for
    page = await ctx.new_page()
    await signed_in(page, base, prog.email("admin"))
    await page.goto(f"{base}/admin/webhooks")
    await ready(page, "webhooks")
    await page.check("#event-boxes input[value='case.submitted']")
    return ctx, page


async def _refused(page, url, line):
    await page.fill("#wh-url", url)
    await page.click("#webhook-form button[type=submit]")
    await page.wait_for_selector(f"#webhook-problem:has-text('{line}')", timeout=10000)
    return await page.inner_text("#webhook-problem")


async def test_a_refused_url_is_said_once_in_her_language_beside_the_form(
    app, factory, monkeypatch
):
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)  # as deployed
    invalid_names_never_resolve(monkeypatch)  # the server is in this loop: no DNS asked
    async with seeded_console(app, factory) as (base, b, prog):
        ctx, page = await _webhooks_page(b, base, prog, "es-AR")
        for url, line in SPANISH:
            said = await _refused(page, url, line)
            assert said == f"Algunos campos deben corregirse\n{line}", said
            assert await page.get_attribute("#wh-url", "aria-invalid") == "true"
            assert await page.input_value("#wh-url") == url  # what she typed is kept
            assert await page.inner_text("#status") == ""  # not in the passing line

        # Still there once the passing line would have cleared (6 s).
        await page.clock.run_for(7000)
        assert await page.is_visible("#webhook-problem")
        assert SPANISH[-1][1] in await page.inner_text("#webhook-problem")
        # Changing the URL puts it away; a URL the rule takes subscribes.
        await page.fill("#wh-url", "https://93.184.215.14/hook")
        assert await page.is_hidden("#webhook-problem")
        await ctx.close()

        # In English too, the reason is said once (the service's detail was said twice).
        ctx, page = await _webhooks_page(b, base, prog, "en-GB")
        said = await _refused(page, SPANISH[0][0], "URL: must start with https://")
        assert said == "Some fields need changing\nURL: must start with https://", said
        await ctx.close()
