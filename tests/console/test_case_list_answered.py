"""In the clinician's list of cases, an answered case no longer says "responder antes de":
it says when it was answered; a case still waiting keeps its deadline."""

from datetime import timedelta

from app.core.clock import utcnow
from tests.console.support import seeded_console, signed_in


async def test_an_answered_case_shows_no_deadline(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        mine = prog.people["clinician"]["id"]
        answered = await factory.make_case(
            prog.org["id"],
            status="answered",
            answered_at=utcnow() - timedelta(hours=3),
            question="Úlcera crónica: ¿curaciones?",
            submitted_by_id=mine,
            assigned_specialist_id=prog.people["specialist"]["id"],
        )
        waiting = await factory.make_case(
            prog.org["id"], question="Lesión en el antebrazo: ¿biopsia?", submitted_by_id=mine
        )
        ctx = await b.new_context(locale="es-AR", viewport={"width": 360, "height": 740})
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), "cases", lang="es")
        done = page.locator(f"[data-case-id='{answered.id}']")
        await done.wait_for()
        said = await done.inner_text()
        assert "responder antes de" not in said, said
        assert "respondido el" in said, said
        open_one = await page.locator(f"[data-case-id='{waiting.id}']").inner_text()
        assert "responder antes de" in open_one, open_one
        await ctx.close()
