"""What fails in the room is said, and only once, in a real browser: a message the service
refuses (here: longer than it takes) is not re-sent at every reconnect but stays on the
page marked as not sent, for her to change; a call on a device without a camera says so
in her words, not the browser's."""

import httpx

from tests.console.support import (
    assigned_case,
    bearers,
    ready,
    seeded_console,
    signed_in,
)


async def test_a_refused_message_is_marked_and_never_resent(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Vesicles on the hands: scabies?")
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#link-state[data-state=open]")
        # Past the form's own limit, as a pasted text on an old browser would be.
        await page.evaluate(
            "() => document.querySelector('#message-body').removeAttribute('maxlength')"
        )
        await page.fill("#message-body", "x" * 9000)
        await page.click("#message-form button[type=submit]")
        await page.wait_for_selector("#messages li.refused")
        assert await page.inner_text("#messages li.refused .meta") == "Not sent: refused"
        kept = await page.evaluate(
            "() => Object.keys(localStorage).filter(k => k.startsWith('console:room-pending:'))"
            ".map(k => localStorage.getItem(k)).join('')"
        )
        assert "xxxx" not in kept
        await page.reload()
        await ready(page, "case")
        await page.wait_for_selector("#link-state[data-state=open]")
        assert await page.locator("#messages li.pending, #messages li.refused").count() == 0
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}/messages", headers=h["clinician"])
            assert r.json()["items"] == []
        await ctx.close()


async def test_a_call_without_a_camera_says_so_in_her_words(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Nodule on the scalp?")
        pages = []
        for who in ("clinician", "specialist"):
            ctx = await b.new_context()
            # A device with no camera: the browser's getUserMedia fails as it would.
            await ctx.add_init_script(
                "navigator.mediaDevices.getUserMedia = () => Promise.reject("
                "new DOMException('Requested device not found', 'NotFoundError'))"
            )
            page = await ctx.new_page()
            await signed_in(page, base, prog.email(who))
            await page.goto(f"{base}/cases/{case_id}")
            await ready(page, "case")
            pages.append(page)
        spec = pages[1]
        await spec.wait_for_selector("#presence:has-text('Clinician')", timeout=10000)
        await spec.click("#call-start")
        said = spec.locator("#status")
        await said.filter(has_text="No camera or microphone was found").wait_for()
        assert "Requested device" not in await said.inner_text()
        assert await spec.get_attribute("#call-state", "data-state") == "idle"
        for page in pages:
            await page.context.close()
