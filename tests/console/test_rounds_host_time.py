"""Round times and the host's zone, as people read them: a clinician at the host facility
sees each coming occurrence's time once (it was said twice, "9:00 · 9:00 at the host"),
someone elsewhere sees her time and the host's; and a coordinator creating a round is told
whose clock the start is on and what time it is there now (the help said only "in the host
facility's time zone", and she typed her own time)."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    bearers,
    make_round,
    ready,
    seeded_console,
    signed_in,
)


async def test_host_time_is_said_once_at_the_host_and_named_when_creating(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            coord = (await bearers(c, prog, "coordinator"))["coordinator"]
            day = (utcnow() + timedelta(days=3)).date()
            rnd = await make_round(c, coord, prog.org["id"], "Ateneo de dermatología", day)
            r = await c.post(
                f"/api/v1/rounds/{rnd['id']}/participants",
                headers=coord,
                json={"user_id": prog.people["clinician"]["id"], "role": "local_team"},
            )
            r.raise_for_status()

        # At the host (Salta), in Spanish: the time once.
        ctx = await b.new_context(locale="es-AR", timezone_id="America/Argentina/Salta")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), lang="es")
        await page.goto(f"{base}/rounds")
        await ready(page, "rounds")
        first = page.locator("#upcoming li", has_text="Ateneo de dermatología").first
        await first.wait_for()
        said = await first.inner_text()
        assert "9:00" in said and "centro anfitrión" not in said, said
        await ctx.close()

        # Elsewhere (Kinshasa, in French): her time and the host's; creating a round, the
        # start's help names the host facility and its time now.
        ctx = await b.new_context(locale="fr-FR", timezone_id="Africa/Kinshasa")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("coordinator"), lang="fr")
        await page.goto(f"{base}/rounds")
        await ready(page, "rounds")
        first = page.locator("#upcoming li", has_text="Ateneo de dermatología").first
        await first.wait_for()
        said = await first.inner_text()
        assert "13:00" in said and "9:00 chez l'hôte" in said, said
        await page.select_option("#r-host", prog.org["id"])
        help_ = await page.inner_text("#r-start-help")
        assert "Hospital San Roque" in help_ and "(Salta, " in help_, help_
        await ctx.close()
