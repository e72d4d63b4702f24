"""Care goes on after the consult: a clinician opens "Follow-ups" and finds, across her
cases, what is still to be done, the late ones first and each soonest due first, by whom
(named) and for which case (its question); one done is not there. "Only those I am to do"
keeps hers; a follow-up's link opens its case's follow-ups, where it is ended. The
specialist finds the same follow-ups of her cases. In a real browser."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    assigned_case,
    bearers,
    plan_follow_up,
    ready,
    seeded_console,
    sign_in,
)


async def _texts(page, selector: str) -> list[str]:
    return [await li.inner_text() for li in await page.locator(selector).all()]


async def test_her_follow_ups_across_cases_late_first(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        clinician = prog.people["clinician"]["id"]
        specialist = prog.people["specialist"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            foot = await assigned_case(c, h, prog, "Wound on the left foot after a thorn?")
            cough = await assigned_case(c, h, prog, "Cough for three weeks, night sweats?")
            mine, hers = h["clinician"], h["specialist"]
            await plan_follow_up(c, hers, foot, clinician, "Dress the wound", days=1)
            await plan_follow_up(c, mine, cough, clinician, "Sputum result back?", days=5)
            await plan_follow_up(c, mine, cough, specialist, "Read the chest film", days=4)
            done = await plan_follow_up(c, mine, foot, clinician, "Temperature", days=1)
            r = await c.patch(
                f"/api/v1/follow-ups/{done['id']}",
                headers={**h["clinician"], "If-Match": f'"{done["version"]}"'},
                json={"status": "done", "outcome": "No fever."},
            )
            r.raise_for_status()
        clock.advance(timedelta(days=2))  # the wound's dressing is a day late now

        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")
        await page.click("#nav a[href='/follow-ups']")
        await ready(page, "followups")
        late = await _texts(page, "#late-list > li")
        assert len(late) == 1, late
        assert "Dress the wound" in late[0] and "Overdue" in late[0], late
        assert "Wound on the left foot after a thorn?" in late[0] and "Who: Me" in late[0], late
        coming = await _texts(page, "#coming-list > li")
        assert [t.split("\n")[0] for t in coming] == ["Read the chest film", "Sputum result back?"]
        assert "Who: Dr Ana Ruiz" in coming[0], coming
        assert "Cough for three weeks, night sweats?" in coming[1], coming
        assert "Temperature" not in await page.inner_text("main")  # done: nothing to do

        await page.check("#filter-mine")
        # Drawn again with hers alone (the chest film is the specialist's).
        await page.wait_for_selector("#coming-list li:has-text('chest film')", state="detached")
        assert (await _texts(page, "#coming-list > li"))[0].startswith("Sputum result back?")
        assert len(await _texts(page, "#late-list > li")) == 1

        await page.click("#late-list a")
        await ready(page, "case")
        assert page.url == f"{base}/cases/{foot}#followup-list"
        await page.wait_for_selector("#followup-list li:has-text('Dress the wound')")

        # The specialist: the same follow-ups of her cases; hers alone with the filter.
        spec = await (await b.new_context(locale="en-GB")).new_page()
        await sign_in(spec, base, prog.email("specialist"), "inbox")
        await spec.goto(f"{base}/follow-ups")
        await ready(spec, "followups")
        assert len(await _texts(spec, "#late-list > li")) == 1
        assert len(await _texts(spec, "#coming-list > li")) == 2
        await spec.check("#filter-mine")
        await spec.wait_for_selector("#late", state="hidden")
        coming = await _texts(spec, "#coming-list > li")
        assert len(coming) == 1 and coming[0].startswith("Read the chest film"), coming
        assert "Who: Me" in coming[0], coming


async def test_nothing_waiting_is_said(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await (await b.new_context(locale="en-GB")).new_page()
        await sign_in(page, base, prog.email("clinician"), "cases")
        await page.goto(f"{base}/follow-ups")
        await ready(page, "followups")
        assert await page.inner_text("#followups-msg") == "No follow-up is waiting."
        assert await page.locator("#late").is_hidden()
        assert await page.locator("#coming").is_hidden()
