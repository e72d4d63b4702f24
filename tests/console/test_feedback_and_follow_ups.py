"""On an answered case the facility plans and ends follow-ups and gives feedback, in a real
browser: each follow-up says who owns it, the record shows what changed without a reload
(an ended follow-up by name and how it ended), and feedback already given is shown in its
form, so sending again is a choice, not a surprise."""

from datetime import timedelta

from app.core.clock import utcnow
from tests.console.support import answered_case, ready, seeded_console, signed_in


async def test_follow_ups_and_feedback_as_the_facility_sees_them(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        case = await answered_case(
            factory,
            prog,
            question="Chronic leg ulcer: dressing advice?",
        )
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/{case.id}")
        await ready(page, "case")

        due = (utcnow() + timedelta(days=14)).strftime("%Y-%m-%dT09:00")  # the tests' clock
        await page.fill("#fu-due", due)
        await page.fill("#fu-description", "Measure the ulcer at the dressing change")
        await page.click("#followup-form button[type=submit]")
        item = page.locator("#followup-list li", has_text="Measure the ulcer")
        await item.wait_for()
        assert "Who: Me" in await item.inner_text()
        record = page.locator("#record-list")
        await record.locator("li", has_text="Measure the ulcer").wait_for()
        # Final once recorded: asked first, naming the follow-up and the choice.
        asked: list[str] = []

        async def accept(dialog):
            asked.append(dialog.message)
            await dialog.accept()

        page.on("dialog", accept)
        async with page.expect_event("dialog", timeout=5000):
            await item.locator("button", has_text="Done").click()
        assert "Measure the ulcer at the dressing change" in asked[0], asked
        await record.locator("li", has_text="at the dressing change · Done").wait_for()

        await page.select_option("#fb-usefulness", "4")
        await page.check("#fb-changed")
        await page.fill("#fb-comment", "Clear advice, fits our dressings.")
        await page.click("#feedback-form button[type=submit]")
        await page.wait_for_selector("#feedback-given:not([hidden])")
        await page.reload()
        await ready(page, "case")
        await page.wait_for_selector("#feedback-given:not([hidden])")
        assert await page.input_value("#fb-usefulness") == "4"
        assert await page.is_checked("#fb-changed")
        assert await page.input_value("#fb-comment") == "Clear advice, fits our dressings."
        await ctx.close()
