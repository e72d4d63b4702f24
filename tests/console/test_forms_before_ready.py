"""On a slow link a form is on the screen before the page's script: submitted then, it
never goes out natively (a GET would put the password, or the clinical question and the
patient's reference, in the address and the history). It is held, what she typed stays in
the fields, the status line says to try again in a moment, in her language, and once the
script has come the same form works. The page's module is held here, as a slow link holds
it."""

import asyncio
from typing import Any

from app.core.clock import utcnow
from tests.console.support import PASSWORD, ready, seeded_console, signed_in, status_says


async def _hold_the_script(page: Any) -> asyncio.Event:
    """The console's module (app.js) waits until the event returned is set."""
    release = asyncio.Event()

    async def slow(route: Any) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/js/app.js", slow)
    return release


async def test_signing_in_before_the_script_keeps_the_password_out_of_the_address(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="es-AR")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await page.goto(f"{base}/lang/es?next=/signin")
        await ready(page, "signin")
        release = await _hold_the_script(page)
        await page.goto(f"{base}/signin", wait_until="commit")
        await page.wait_for_selector("#signin-form")
        await page.fill("#email", prog.email("clinician"))
        await page.fill("#password", PASSWORD)
        await page.click("#signin-form button[type=submit]")

        assert page.url == f"{base}/signin", page.url
        assert PASSWORD not in page.url and "password" not in page.url
        assert await page.input_value("#email") == prog.email("clinician")
        assert await page.input_value("#password") == PASSWORD
        said = await status_says(page, "Todavía se está cargando")
        assert "Still loading" not in said

        release.set()
        await ready(page, "signin")
        await page.click("#signin-form button[type=submit]")
        await page.wait_for_url(lambda u: "/signin" not in u, timeout=15000)
        await ready(page, "cases")
        assert PASSWORD not in page.url
        await ctx.close()


async def test_a_case_submitted_before_the_script_is_kept_and_goes_once_it_has_come(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), "cases")
        release = await _hold_the_script(page)
        await page.goto(f"{base}/cases/new", wait_until="commit")
        await page.wait_for_selector("#case-form")
        question = "Spreading rash on the forearm: biopsy?"
        await page.fill("#question", question)
        await page.fill("#patient-reference", "HSR-7731")
        await page.click("#case-form button[type=submit]")

        assert page.url == f"{base}/cases/new", page.url
        assert "HSR-7731" not in page.url and "forearm" not in page.url
        assert await page.input_value("#question") == question
        assert await page.input_value("#patient-reference") == "HSR-7731"
        await status_says(page, "Still loading — try again in a moment")

        release.set()
        await ready(page, "case_new")
        await status_says(page, "Ready now: send it again.")  # not "try again" for good
        assert await page.input_value("#question") == question  # the script kept her text
        assert await page.input_value("#patient-reference") == "HSR-7731"
        await page.select_option("#specialty", "dermatology")
        await page.check("#consent")
        await page.click("#case-form button[type=submit]")
        await ready(page, "case")
        assert "/cases/new" not in page.url and "HSR-7731" not in page.url
        assert question in await page.inner_text("#case-title")
        await ctx.close()
