"""A message she wrote offline for a case that was cancelled before the link came back: the
service takes no more messages there, so the case's page shows her words as not sent and
says why, once, rather than keeping them on the phone to be sent for ever or losing them
unseen. In a real browser."""

import httpx

from tests.console.support import (
    assigned_case,
    bearers,
    case_page,
    left_unsent,
    ready,
    seeded_console,
    signed_in,
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
        assert said == "Messages not sent, as the case was cancelled: 1. What you wrote is below."
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


async def test_refused_in_the_live_room_when_cancelled_meanwhile_stays_in_view(app, factory):
    """Her page was open with the link down while the case was cancelled; she wrote, and
    the link came back. The room refuses the message (the socket does not replay the
    cancel), and the page turns to the kept conversation with her words marked not sent:
    before, the refusal was wiped by the redraw and the box stayed open."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Wrong patient chosen?")
        ctx, page = await case_page(b, base, prog.email("clinician"), case_id)
        await page.wait_for_selector("#link-state[data-state=open]", timeout=15000)
        await ctx.set_offline(True)
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.post(f"/api/v1/cases/{case_id}/cancel", headers=h["clinician"], json={})
            r.raise_for_status()
        await page.fill("#message-body", "Please stop, wrong patient.")
        await page.press("#message-body", "Enter")
        await page.wait_for_selector("#messages li.pending")
        await ctx.set_offline(False)

        await page.locator("#link-state", has_text="Read only: the case was cancelled").wait_for(
            timeout=20000
        )
        item = page.locator("#messages li.refused")
        await item.wait_for()
        assert await item.count() == 1
        assert await item.locator(".body").inner_text() == "Please stop, wrong patient."
        assert await page.locator("#message-form").is_hidden()
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}/messages", headers=h["specialist"])
            assert r.json()["items"] == []
        await ctx.close()


async def test_a_message_stored_though_its_answer_was_lost_is_not_called_unsent(app, factory):
    """The phone kept a message whose answer was lost with the link, though the service had
    stored it; the case was then cancelled. Its page shows it once, stored, not also as a
    message 'not sent'."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Photo of the lesion enough?")
            r = await c.post(
                f"/api/v1/cases/{case_id}/messages",
                headers=h["clinician"],
                json={"body": "Photo attached.", "client_msg_id": "lost-answer"},
            )
            r.raise_for_status()
            r = await c.post(f"/api/v1/cases/{case_id}/cancel", headers=h["clinician"], json={})
            r.raise_for_status()
        ctx = await b.new_context(viewport={"width": 360, "height": 740})
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), lands_on="cases")
        # What the phone still holds: the message, its answer never heard.
        me = prog.people["clinician"]["id"]
        await page.evaluate(
            "([k, v]) => localStorage.setItem(k, v)",
            [
                f"console:room-pending:{case_id}:{me}",
                '[{"body": "Photo attached.", "client_msg_id": "lost-answer"}]',
            ],
        )
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        said = await page.locator("#messages li").evaluate_all(
            "(lis) => lis.map((li) => [li.className, li.querySelector('.body')?.textContent])"
        )
        assert said == [["mine", "Photo attached."]]
        assert "not sent" not in (await page.inner_text("#status")).lower()
        kept = await page.evaluate(
            "(id) => Object.keys(localStorage).filter((k) => k.includes(`room-pending:${id}:`))",
            case_id,
        )
        assert kept == []
        await ctx.close()


async def test_refused_from_another_page_is_said_there(app, factory):
    """The link came back while she was on her case list, not the cancelled case's page:
    the page she is on sends what waited, and says that it was not taken and where to read
    it. Before, it said nothing there."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Sent for the wrong patient?")
        ctx = await left_unsent(b, base, prog.email("clinician"), case_id, "Wrong patient, sorry.")
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.post(f"/api/v1/cases/{case_id}/cancel", headers=h["clinician"], json={})
            r.raise_for_status()

        page = await ctx.new_page()
        await page.goto(f"{base}/cases")
        await ready(page, "cases")
        said = await status_says(page, "were not taken")
        assert said == (
            "Messages written without a connection were not taken: 1. "
            "Their case's page keeps them, with the reason."
        )
        assert await page.get_attribute("#status", "data-kind") == "error"
        # Its case's page then shows her words as not sent, once.
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await status_says(page, "as the case was cancelled")
        item = page.locator("#messages li.refused")
        assert await item.locator(".body").inner_text() == "Wrong patient, sorry."
        await ctx.close()
