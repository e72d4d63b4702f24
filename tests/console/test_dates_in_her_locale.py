"""Dates are written as her browser writes them when it speaks the console's language: a
British browser reads "26 Nov 2026, 10:00", not the American "Nov 26, 2026, 10:00 AM"; a
browser in a language the console does not speak keeps the console's own way (the page in
her language, English here)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx

from app.core.clock import utcnow
from tests.console.support import bearers, london_page, seeded_console, signed_in


async def test_a_british_browser_reads_british_dates(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        due = utcnow() + timedelta(hours=72)
        case = await factory.make_case(
            prog.org["id"],
            question="Lesión en el antebrazo: ¿biopsia?",
            submitted_by_id=prog.people["clinician"]["id"],
            respond_by=due,
        )
        there = due.astimezone(ZoneInfo("Europe/London"))
        british = f"{there.day} {there:%b} {there.year}, {there:%H:%M}"
        american = f"{there:%b} {there.day}, {there.year}, {there:%-I:%M %p}"

        _, page = await london_page(b)
        await signed_in(page, base, prog.email("clinician"), "cases")
        row = page.locator(f"[data-case-id='{case.id}']")
        await row.wait_for()
        said = await row.inner_text()
        assert f"answer by {british}" in said, said

        # German is not a console language: the page speaks hers (English, as she set it
        # here; else her facility's), written its own way, not the German way.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.put(
                "/api/v1/me/notification-preferences",
                headers=h["clinician"],
                json={"language": "en"},
            )
            r.raise_for_status()
        ctx = await b.new_context(locale="de-DE", timezone_id="Europe/London")
        await ctx.clock.set_fixed_time(utcnow())
        other = await ctx.new_page()
        await signed_in(other, base, prog.email("clinician"), "cases")
        row = other.locator(f"[data-case-id='{case.id}']")
        await row.wait_for()
        said = await row.inner_text()
        assert f"answer by {american}" in said, said
