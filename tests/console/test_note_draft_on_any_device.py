"""A consult note's draft lives on the server, so a specialist finds it again from another
device (the laptop where she started it, the phone where she finishes it), in a real browser.
A second specialist added to the case writes notes from the case page too."""

import httpx

from tests.console.support import (
    add_person,
    assigned_case,
    bearers,
    ready,
    seeded_console,
    signed_in,
)


async def test_a_draft_started_on_one_device_is_continued_on_another(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Annular plaques on the neck?")
            second = await add_person(c, "second", "Dr Kofi Mensah", "specialist")
            r = await c.post(
                f"/api/v1/cases/{case_id}/participants",
                headers=h["coordinator"],
                json={"user_id": second["id"], "role": "specialist"},
            )
            r.raise_for_status()

        # The laptop: she starts the note and writes a line; it is saved.
        laptop = await b.new_context()
        page = await laptop.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        assert await page.locator("#note-draft").is_hidden()  # nothing started yet
        await page.click("#note-new")
        await ready(page, "note")
        note_id = page.url.rsplit("/", 1)[1]
        await page.fill("#note-assessment", "Probable tinea; scraping if available.")
        await page.wait_for_selector("#save-state[data-state=saved]", timeout=15000)
        await laptop.close()

        # The phone knows nothing of it locally: the case page finds it on the server.
        phone = await b.new_context(viewport={"width": 360, "height": 740})
        page = await phone.new_page()
        await signed_in(page, base, prog.email("specialist"))
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#note-draft:not([hidden])")
        assert await page.get_attribute("#note-draft", "href") == f"/notes/{note_id}"
        # Her draft is the one to go on with: no button beside it starts a second, empty one.
        assert await page.locator("#note-new").is_hidden()
        await page.click("#note-draft")
        await ready(page, "note")
        assert await page.input_value("#note-assessment") == (
            "Probable tinea; scraping if available."
        )
        await phone.close()

        # The second specialist may write notes: the case page offers it; her colleague's
        # draft is not hers to continue.
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, "second@console.example.org")
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#note-actions:not([hidden])")
        assert await page.locator("#note-draft").is_hidden()
        await page.click("#note-new")
        await ready(page, "note")
        assert page.url.rsplit("/", 1)[1] != note_id
        await ctx.close()
