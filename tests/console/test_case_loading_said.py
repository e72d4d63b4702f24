"""On a slow link the case page says it is loading, in her language, until the case
arrives (not a bare "Caso", an empty badge and an empty card), and the line goes once the
case is shown. The case's own request is held here, as a slow link holds it."""

import asyncio

from app.core.clock import utcnow
from tests.console.support import ready, seeded_console, signed_in


async def test_the_case_page_says_it_is_loading(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        case = await factory.make_case(
            prog.org["id"],
            question="Lesión en el antebrazo: ¿biopsia?",
            submitted_by_id=prog.people["clinician"]["id"],
        )
        ctx = await b.new_context(locale="es-AR", viewport={"width": 360, "height": 740})
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), "cases", lang="es")

        release = asyncio.Event()
        held = asyncio.Event()

        async def slow(route):
            held.set()
            await release.wait()
            await route.continue_()

        await page.route(f"**/api/v1/cases/{case.id}", slow)
        await page.goto(f"{base}/cases/{case.id}", wait_until="commit")
        await asyncio.wait_for(held.wait(), 15)
        loading = page.locator("#case-loading")
        await loading.wait_for()
        assert "Cargando…" in await loading.inner_text()
        assert await page.locator("#case-facts").is_hidden()  # no empty card meanwhile
        assert await page.locator("#case-status").is_hidden()  # nor an empty badge
        release.set()
        await ready(page, "case")
        await loading.wait_for(state="hidden")
        assert "antebrazo" in await page.inner_text("#case-title")
        assert await page.locator("#case-facts").is_visible()
        await ctx.close()
