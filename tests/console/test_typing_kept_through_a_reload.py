"""What she is typing in a case's room, or as what a follow-up found, outlives a reload
(a dropped link, a page closed by mistake): it was lost, and she typed a long history
again. Sent, it is gone from the device; signing out on a shared phone deletes it after
saying so. In a real browser."""

import httpx

from tests.console.support import (
    assigned_case,
    bearers,
    case_page,
    plan_follow_up,
    ready,
    seeded_console,
    signed_in,
)

TYPING = """() => Object.keys(localStorage).filter((k) => k.startsWith('console:typing:'))"""


async def test_a_half_written_message_survives_a_reload_and_goes_once(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Rash after the new tablets?")
        ctx, page = await case_page(b, base, prog.email("clinician"), case_id)
        await page.wait_for_selector("#link-state[data-state=open]", timeout=15000)

        typed = "Started the tablets on Monday.\nRash on the chest since Wednesday"
        await page.fill("#message-body", typed)
        assert len(await page.evaluate(TYPING)) == 1
        # Opened afresh (not the browser's own restoring of a reloaded form), in a second tab.
        again = await ctx.new_page()
        await again.goto(f"{base}/cases/{case_id}")
        await ready(again, "case")
        assert await again.input_value("#message-body") == typed

        # Finished and sent there: gone from the device, and the first tab's box, which
        # followed her typing there, is emptied rather than left to send it a second time.
        await again.wait_for_selector("#link-state[data-state=open]", timeout=15000)
        await again.fill("#message-body", typed + ", no fever.")
        await page.wait_for_function(
            "(v) => document.getElementById('message-body').value === v", arg=typed + ", no fever."
        )
        await again.press("#message-body", "Enter")
        await again.wait_for_selector("#messages li[data-seq]")
        assert await again.evaluate(TYPING) == []
        await page.wait_for_function("() => document.getElementById('message-body').value === ''")
        await again.reload()
        await ready(again, "case")
        await again.wait_for_selector("#messages li[data-seq]")
        assert await again.input_value("#message-body") == ""

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}/messages", headers=h["specialist"])
        assert [m["body"] for m in r.json()["items"]] == [typed + ", no fever."]
        await ctx.close()


async def test_what_a_follow_up_found_survives_a_reload_until_it_is_recorded(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Wound not healing after two weeks")
            fu = await plan_follow_up(
                c, h["specialist"], case_id, prog.people["clinician"]["id"], "Check the wound"
            )
        ctx, page = await case_page(b, base, prog.email("clinician"), case_id)
        box = f"#fu-outcome-{fu['id']}"
        await page.wait_for_selector(box)

        found = "Edges pink, no pus; 1 cm smaller than last week."
        await page.fill(box, found)
        await page.reload()
        await ready(page, "case")
        await page.wait_for_selector(box)
        assert await page.input_value(box) == found

        page.once("dialog", lambda d: d.accept())
        await page.click(f"#followup-{fu['id']} button:has-text('Done')")
        await page.wait_for_selector(f"#followup-{fu['id']} .fu-outcome")
        assert await page.evaluate(TYPING) == []
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/follow-ups/{fu['id']}", headers=h["clinician"])
        assert (r.json()["status"], r.json()["outcome"]) == ("done", found)
        await ctx.close()


async def test_signing_out_says_what_she_was_typing_and_deletes_it(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Rash after the new tablets?")
            fu = await plan_follow_up(
                c, h["specialist"], case_id, prog.people["clinician"]["id"], "Check the rash"
            )
        ctx, page = await case_page(b, base, prog.email("clinician"), case_id)
        await page.wait_for_selector(f"#fu-outcome-{fu['id']}")
        await page.fill("#message-body", "Patient HSR-4242 says")
        await page.fill(f"#fu-outcome-{fu['id']}", "Faded on the arms")
        assert len(await page.evaluate(TYPING)) == 2

        said = []

        async def accept(dialog):
            said.append(dialog.message)
            await dialog.accept()

        page.once("dialog", accept)
        await page.click("#signout")
        await page.wait_for_url(f"{base}/signin")
        assert said and "messages of a consult" in said[0], said
        assert "what a follow-up found" in said[0], said
        assert await page.evaluate(TYPING) == []
        await ctx.close()


async def test_what_she_was_typing_goes_with_the_room_and_with_her(app, factory):
    """A case cancelled meanwhile has no room to send it to: opening it drops the text
    (else every sign-out named messages she could not find). Someone else signing in on
    the device finds nothing of it."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            first = await assigned_case(c, h, prog, "Rash after the new tablets?")
            second = await assigned_case(c, h, prog, "Cough for three weeks")
        ctx = await b.new_context(viewport={"width": 360, "height": 740})
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        for case_id in (first, second):
            await page.goto(f"{base}/cases/{case_id}")
            await ready(page, "case")
            await page.fill("#message-body", f"About {case_id}: the patient HSR-4242")
        assert len(await page.evaluate(TYPING)) == 2

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.post(f"/api/v1/cases/{first}/cancel", headers=h["clinician"], json={})
            r.raise_for_status()
        await page.goto(f"{base}/cases/{first}")
        await ready(page, "case")
        assert await page.locator("#message-form").is_hidden()
        kept = await page.evaluate(TYPING)
        assert len(kept) == 1 and kept[0].endswith(f":room:{second}"), kept

        # The specialist signs in on the same phone (no sign-out before): nothing of it.
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/cases/{second}")
        await ready(page, "case")
        assert await page.evaluate(TYPING) == []
        assert await page.input_value("#message-body") == ""
        await ctx.close()
