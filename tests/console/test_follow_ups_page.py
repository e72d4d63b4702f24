"""Care goes on after the consult: a clinician opens "Follow-ups" and finds, across her
cases, what is still to be done, the late ones first and each list soonest due first (not
in the order they were planned), by whom (named) and for which case (its question); one
done is not there. "Only those I am to do" keeps hers, and the address keeps her choice
(Back from a case finds it so); a follow-up's link opens its case with that follow-up
marked. With no connection the page says so and the box goes back to what the list shows.
The specialist starts with her own. In a real browser."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    assigned_case,
    bearers,
    plan_follow_up,
    ready,
    seeded_console,
    settled,
    signed_in,
)


async def _firsts(page, selector: str) -> list[str]:
    """Each item's first line: what is to be done."""
    return [(await li.inner_text()).split("\n")[0] for li in await page.locator(selector).all()]


async def test_her_follow_ups_across_cases_late_first(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        clinician = prog.people["clinician"]["id"]
        specialist = prog.people["specialist"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            foot = await assigned_case(c, h, prog, "Wound on the left foot after a thorn?")
            cough = await assigned_case(c, h, prog, "Cough for three weeks, night sweats?")
            mine, hers = h["clinician"], h["specialist"]
            # Each planned before one due earlier: the order planned is not the order due.
            await plan_follow_up(c, hers, foot, clinician, "Check the drain", days=1)
            wound = await plan_follow_up(c, hers, foot, clinician, "Dress the wound", days=2)
            await plan_follow_up(c, mine, cough, specialist, "Read the chest film", days=4)
            await plan_follow_up(c, mine, cough, clinician, "Sputum result back?", days=5)
            done = await plan_follow_up(c, mine, foot, clinician, "Temperature", days=1)
            r = await c.patch(
                f"/api/v1/follow-ups/{done['id']}",
                headers={**mine, "If-Match": f'"{done["version"]}"'},
                json={"status": "done", "outcome": "No fever."},
            )
            r.raise_for_status()
        clock.advance(timedelta(days=3))  # the drain and the wound are late now

        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), "cases")
        await page.click("#nav a[href='/follow-ups']")
        await ready(page, "followups")
        assert await page.inner_text("#followups-msg") == "Late: 2 · To come: 2"
        assert await _firsts(page, "#late-list > li") == ["Check the drain", "Dress the wound"]
        late = await page.inner_text("#late-list > li:nth-child(2)")
        assert "Overdue" in late and "Who: Me" in late and "Due: " in late, late
        assert "Case: Wound on the left foot after a thorn?" in late, late
        assert await _firsts(page, "#coming-list > li") == [
            "Read the chest film",
            "Sputum result back?",
        ]
        assert "Who: Dr Ana Ruiz" in await page.inner_text("#coming-list > li:first-child")
        assert "Temperature" not in await page.inner_text("main")  # done: nothing to do

        await page.check("#filter-mine")
        await page.wait_for_selector("#coming-list li:has-text('chest film')", state="detached")
        await settled(page)
        assert await _firsts(page, "#coming-list > li") == ["Sputum result back?"]
        assert page.url == f"{base}/follow-ups?mine=1"

        # The wound's link: its case, with that follow-up marked among the others.
        await page.click("#late-list a:has-text('Dress the wound')")
        await ready(page, "case")
        assert page.url == f"{base}/cases/{foot}#followup-{wound['id']}"
        marked = page.locator(f"#followup-{wound['id']}.chosen")
        await marked.wait_for()
        said = await marked.inner_text()
        assert "Dress the wound" in said and "Due: " in said, said  # a deadline, said as one
        assert await page.locator("#followup-list li.chosen").count() == 1
        focused = await page.evaluate("() => document.activeElement.id")
        assert focused == f"followup-{wound['id']}", focused  # a screen reader starts there
        # Back: her choice is as she left it.
        await page.go_back()
        await ready(page, "followups")
        assert await page.is_checked("#filter-mine")
        assert await _firsts(page, "#coming-list > li") == ["Sputum result back?"]

        # No connection: said, and the box goes back to what the list shows.
        await ctx.set_offline(True)
        # A click, not uncheck(): the page may put the box back before Playwright looks.
        await page.click("#filter-mine")
        await page.wait_for_selector("#followups-msg:has-text('No connection')")
        await settled(page)
        assert await page.is_checked("#filter-mine")
        assert await _firsts(page, "#coming-list > li") == ["Sputum result back?"]
        await ctx.set_offline(False)

        # The specialist starts with her own; everyone's on her cases is one click away.
        spec = await (await b.new_context(locale="en-GB")).new_page()
        await signed_in(spec, base, prog.email("specialist"))
        await spec.goto(f"{base}/follow-ups")
        await ready(spec, "followups")
        assert await spec.is_checked("#filter-mine")
        assert await spec.locator("#late").is_hidden()
        coming = await spec.inner_text("#coming-list")
        assert coming.startswith("Read the chest film") and "Who: Me" in coming, coming
        await spec.uncheck("#filter-mine")
        await spec.wait_for_selector("#late:not([hidden])")
        await settled(spec)
        assert await spec.inner_text("#followups-msg") == "Late: 2 · To come: 2"


async def test_nothing_waiting_is_said(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        page = await (await b.new_context(locale="en-GB")).new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/follow-ups")
        await ready(page, "followups")
        assert await page.inner_text("#followups-msg") == "No follow-up is waiting."
        assert await page.locator("#late").is_hidden()
        assert await page.locator("#coming").is_hidden()
        await page.check("#filter-mine")
        await page.wait_for_selector("#followups-msg:has-text('waiting for you')")
