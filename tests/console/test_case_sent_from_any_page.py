"""A case submitted while the link was down goes when the link returns from whatever page
is open, in a real browser: the clinician closed the intake (or moved on) meanwhile, and
an emergency must not wait for her to open it again. It is sent once, with its photo."""

import httpx

from tests.console.support import bearers, png, ready, seeded_console, signed_in


async def test_a_case_kept_offline_is_sent_from_the_next_page_opened(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/new")
        await ready(page, "case_new")
        await page.select_option("#specialty", "dermatology")
        await page.select_option("#urgency", "emergency")
        await page.fill("#question", "Spreading necrotic ulcer on the leg, fever: what now?")
        await page.fill("#patient-reference", "HSR-9911")
        await page.fill("#languages", "es")
        await page.check("#consent")
        await page.set_input_files(
            "#photo", files=[{"name": "leg.png", "mimeType": "image/png", "buffer": png()}]
        )
        await page.wait_for_selector("#photo-preview:not([hidden])")
        await ctx.set_offline(True)
        await page.click("#case-form button[type=submit]")
        await page.wait_for_selector("#draft-state:not([hidden])")
        await page.close()  # she leaves the intake while the link is down

        await ctx.set_offline(False)
        page = await ctx.new_page()
        await page.goto(f"{base}/cases")
        await ready(page, "cases")
        await page.wait_for_selector("#status:has-text('has been sent')", timeout=20000)
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            cases = (await c.get("/api/v1/cases", headers=h["clinician"])).json()["items"]
            assert [x["urgency"] for x in cases] == ["emergency"]
            r = await c.get(f"/api/v1/cases/{cases[0]['id']}/attachments", headers=h["clinician"])
            assert [a["filename"] for a in r.json()["items"]] == ["leg.png"]
        # Nothing is left waiting on the device: another page sends nothing more.
        await page.goto(f"{base}/profile")
        await ready(page, "profile")
        left = await page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('console:case-draft:'))"
        )
        assert left == []
        await ctx.close()
