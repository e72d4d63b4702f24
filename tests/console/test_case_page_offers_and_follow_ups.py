"""The case page in a real browser. A specialist whose offer of a case expired opens the
case by its address: she is told the offer expired, not that the case is "not found". On
"Plan a follow-up" the Due field says whose clock it is read on (hers, named), and a date
in the past is refused beside the field, where she typed it, not in a passing toast."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from app.matching import jobs
from tests.console.support import (
    assigned_case,
    bearers,
    pending_offer,
    ready,
    seeded_console,
    signed_in,
    submit_case,
)


async def test_a_case_whose_offer_expired_says_so(app, factory, clock):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await submit_case(c, h["clinician"], "Plaques on both shins for a year?")
            await pending_offer(c, h, case_id, prog.people["specialist"]["id"])
            clock.advance(timedelta(hours=13))  # a routine offer lasts 12 hours
            await jobs.expire_offers()
        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        main = await page.inner_text("main")
        assert "This offer expired before you answered it." in main, main
        assert "Not found" not in main, main
        assert await page.locator("main a[href='/inbox']").count() == 1


async def test_a_follow_up_due_in_her_time_and_refused_beside_the_field(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Spreading rash on the legs?")
        ctx = await b.new_context(locale="en-GB", timezone_id="Asia/Kolkata")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#followup-form:not([hidden])")
        due = await page.inner_text("label[for=fu-due]")
        assert "your time" in due and "India Standard Time" in due, due
        past = utcnow() + timedelta(hours=5, minutes=30) - timedelta(days=2)
        await page.fill("#fu-due", past.strftime("%Y-%m-%dT%H:%M"))
        await page.fill("#fu-description", "Check the rash")
        await page.click("#followup-form button[type=submit]")
        why = page.locator("#fu-due-field-error")
        await why.wait_for()
        assert "must not be in the past" in await why.inner_text()
        assert await page.get_attribute("#fu-due", "aria-invalid") == "true"
        assert await page.input_value("#fu-description") == "Check the rash"  # kept
