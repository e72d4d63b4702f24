"""On a slow link /rounds says it is loading, in her language, until the rounds are read (not
an empty "Coming up" list); a read that fails says so, with "Try again", which reads them
again. The rounds' own request is held here, as a slow link holds it, or dropped."""

import asyncio
from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    bearers,
    make_round,
    ready,
    seeded_console,
    settled,
    signed_in,
)


async def test_the_rounds_page_says_it_is_loading_and_when_it_failed(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            day = (utcnow() + timedelta(days=2)).date()
            rid = (await make_round(c, h["coordinator"], prog.org["id"], "Dermatología", day))["id"]
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

        await page.route("**/api/v1/rounds?*", slow)
        await page.goto(f"{base}/rounds", wait_until="commit")
        await asyncio.wait_for(held.wait(), 15)
        loading = page.locator("#upcoming-loading")
        await loading.wait_for()
        assert "Cargando…" in await loading.inner_text()
        assert await page.locator("#upcoming").is_hidden()  # no empty list meanwhile
        release.set()
        await ready(page, "rounds")
        await loading.wait_for(state="hidden")
        await page.wait_for_selector(f"#upcoming li[data-round-id='{rid}']")
        await page.unroute("**/api/v1/rounds?*")

        # The read fails: said, with a way to read again, never "nothing coming up".
        await page.route("**/api/v1/rounds?*", lambda route: route.abort())
        await page.goto(f"{base}/rounds")
        await ready(page, "rounds")
        failed = page.locator("#upcoming-error")
        await failed.wait_for()
        said = await failed.inner_text()
        assert "No se pudieron leer las sesiones clínicas." in said, said
        assert "Sin conexión." in said, said
        assert await loading.is_hidden()
        assert await page.locator("#upcoming").is_hidden()
        await page.unroute("**/api/v1/rounds?*")
        await page.click("#upcoming-retry")
        await settled(page)
        await page.wait_for_selector(f"#upcoming li[data-round-id='{rid}']")
        assert await failed.is_hidden()
        await ctx.close()
