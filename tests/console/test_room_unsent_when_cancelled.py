"""A message she wrote offline for a case that was cancelled before the link came back: the
service takes no more messages there, so the case's page shows her words as not sent and
says why, once, rather than keeping them on the phone to be sent for ever or losing them
unseen. In a real browser."""

import httpx

from tests.console.support import (
    assigned_case,
    bearers,
    left_unsent,
    ready,
    seeded_console,
    status_says,
)


async def test_a_message_unsent_when_its_case_was_cancelled_is_shown_not_sent(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Sent to the wrong specialty?")
        ctx = await left_unsent(
            b, base, prog.email("clinician"), case_id, "Please ignore, wrong patient."
        )
        # Cancelled meanwhile (from her desk computer), before the phone's page is opened.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.post(f"/api/v1/cases/{case_id}/cancel", headers=h["clinician"], json={})
            r.raise_for_status()

        page = await ctx.new_page()
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        said = await status_says(page, "as the case was cancelled")
        assert said == (
            "Not sent, as the case was cancelled: 1 of your messages. Their words are below."
        )
        item = page.locator("#messages li.refused")
        assert await item.count() == 1
        assert await item.locator(".meta").inner_text() == "Not sent: refused"
        assert await item.locator(".body").inner_text() == "Please ignore, wrong patient."
        assert await page.locator("#message-form").is_hidden()
        kept = await page.evaluate(
            "(id) => Object.keys(localStorage).filter((k) => k.includes(`room-pending:${id}:`))",
            case_id,
        )
        assert kept == []

        # Shown once: the phone keeps nothing of it to send, or to show again.
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.locator("#messages li", has_text="Nothing was written here.").wait_for()
        assert await page.locator("#messages li.refused").count() == 0
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}/messages", headers=h["specialist"])
            assert r.json()["items"] == []
        await ctx.close()
