"""A page whose data cannot be read because the link dropped says so in the console's own
words, in her language ("Sin conexión..."), never the browser's English ("Failed to
fetch")."""

import json
from pathlib import Path

from app.core.clock import utcnow
from tests.console.support import ready, seeded_console, sign_in

CATALOGUES = Path(__file__).resolve().parents[2] / "app" / "core" / "i18n"
ES = json.loads((CATALOGUES / "es.json").read_text("utf-8"))


async def test_a_dropped_link_is_said_in_her_words(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context(locale="es-AR", viewport={"width": 360, "height": 740})
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await page.goto(f"{base}/lang/es?next=/signin")
        await sign_in(page, base, prog.email("clinician"), "cases")
        # The page itself arrives; the link drops before its data does.
        await page.route("**/api/v1/cases?*", lambda route: route.abort("internetdisconnected"))
        await page.goto(f"{base}/cases")
        await ready(page, "cases")
        said = await page.inner_text("#main .error")
        assert said == ES["error.offline"], said
        assert "Failed" not in said and "fetch" not in said
        await ctx.close()
