"""Two devices on one consult note, in a real browser: a version saved meanwhile elsewhere,
or a signing, is never overwritten unasked, and text typed offline is never shown as part
of a note signed without it. The clinician acknowledges a signed note where its link
(an email, a notification) opens it."""

from typing import Any

import httpx

from tests.console.support import (
    assigned_case,
    bearers,
    ready,
    seeded_console,
    signed_in,
)


async def _note(base: str, prog: Any) -> tuple[str, str, dict[str, dict[str, str]]]:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        h = await bearers(c, prog, "clinician", "specialist", "coordinator")
        case_id = await assigned_case(c, h, prog, "Violaceous plaques on the shins?")
        r = await c.post(
            f"/api/v1/cases/{case_id}/notes",
            headers=h["specialist"],
            json={
                "kind": "consult",
                "assessment": "Erythema nodosum likely.",
                "recommendations": "Rest and leg elevation.",
            },
        )
        r.raise_for_status()
        return case_id, r.json()["id"], h


async def _server_note(base: str, note_id: str, h: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        r = await c.get(f"/api/v1/notes/{note_id}", headers=h)
        r.raise_for_status()
        return r.json()


async def _open(ctx: Any, base: str, note_id: str) -> Any:
    page = await ctx.new_page()
    await page.goto(f"{base}/notes/{note_id}")
    await ready(page, "note")
    return page


async def test_a_version_saved_elsewhere_is_shown_beside_hers_and_never_overwritten_unasked(
    app, factory
):
    async with seeded_console(app, factory) as (base, b, prog):
        _, note_id, h = await _note(base, prog)
        email = prog.email("specialist")
        laptop, phone = await b.new_context(), await b.new_context()
        for ctx in (laptop, phone):
            page = await ctx.new_page()
            await signed_in(page, base, email, "inbox")
            await page.close()
        lap, ph = await _open(laptop, base, note_id), await _open(phone, base, note_id)

        await ph.fill("#note-red_flags", "Fever or joint swelling: refer.")
        await ph.wait_for_selector("#save-state[data-state=saved]")
        await lap.fill("#note-referral_advice", "Chest X-ray if cough.")
        await lap.wait_for_selector("#note-choice:not([hidden])")
        assert await lap.get_attribute("#save-state", "data-state") == "conflict"
        assert "Fever or joint swelling: refer." in await lap.inner_text("#note-choice-fields")
        assert await lap.is_disabled("#note-sign")
        saved = await _server_note(base, note_id, h["specialist"])
        assert (saved["red_flags"], saved["referral_advice"]) == (
            "Fever or joint swelling: refer.",
            "",
        )
        # She takes their line into her text, then keeps hers: both are in the next version.
        await lap.fill("#note-red_flags", "Fever or joint swelling: refer.")
        await lap.click("#note-choice-actions button:not(.secondary)")
        await lap.wait_for_selector("#save-state[data-state=saved]")
        assert await lap.locator("#note-choice").is_hidden()
        saved = await _server_note(base, note_id, h["specialist"])
        assert (saved["red_flags"], saved["referral_advice"], saved["version"]) == (
            "Fever or joint swelling: refer.",
            "Chest X-ray if cough.",
            3,
        )

        # Offline on the laptop, she types and leaves; the phone saves meanwhile. Back on the
        # laptop her text is in the form, theirs beside it, and nothing was sent.
        await laptop.set_offline(True)
        await lap.fill("#note-assessment", "Erythema nodosum; check for streptococcal throat.")
        await lap.wait_for_selector("#save-state[data-state=offline]")
        await lap.close()
        await ph.reload()
        await ready(ph, "note")
        await ph.fill("#note-assessment", "Erythema nodosum; ask about TB contacts.")
        await ph.wait_for_selector("#save-state[data-state=saved]")
        await laptop.set_offline(False)
        lap = await _open(laptop, base, note_id)
        await lap.wait_for_selector("#note-choice:not([hidden])")
        assert await lap.input_value("#note-assessment") == (
            "Erythema nodosum; check for streptococcal throat."
        )
        assert "ask about TB contacts" in await lap.inner_text("#note-choice-fields")
        assert (await _server_note(base, note_id, h["specialist"]))["assessment"] == (
            "Erythema nodosum; ask about TB contacts."
        )
        # She takes theirs: the form shows it, her copy is gone, nothing more is saved.
        await lap.click("#note-choice-actions button.secondary")
        assert await lap.input_value("#note-assessment") == (
            "Erythema nodosum; ask about TB contacts."
        )
        await lap.reload()
        await ready(lap, "note")
        assert await lap.locator("#note-choice").is_hidden()
        assert (await _server_note(base, note_id, h["specialist"]))["version"] == 4
        for ctx in (laptop, phone):
            await ctx.close()


async def test_text_typed_offline_is_not_shown_as_part_of_a_note_signed_without_it(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        _, note_id, h = await _note(base, prog)
        laptop = await b.new_context()
        page = await laptop.new_page()
        await signed_in(page, base, prog.email("specialist"), "inbox")
        lap = await _open(laptop, base, note_id)
        await laptop.set_offline(True)
        await lap.fill("#note-recommendations", "Naproxen 250 mg twice daily; rest.")
        await lap.wait_for_selector("#save-state[data-state=offline]")
        await lap.close()
        await laptop.set_offline(False)
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:  # signed elsewhere
            r = await c.post(
                f"/api/v1/notes/{note_id}/sign", headers={**h["specialist"], "If-Match": '"1"'}
            )
            r.raise_for_status()

        lap = await _open(laptop, base, note_id)
        await lap.wait_for_selector("#note-choice:not([hidden])")
        assert await lap.get_attribute("#save-state", "data-state") == "signed"
        assert await lap.inner_text("#note-document-body") == (
            "Assessment\nErythema nodosum likely.\nRecommendations\nRest and leg elevation."
        )  # what was signed, as a document
        assert "NOT part of the signed note" in await lap.inner_text("#note-choice")
        assert "Naproxen 250 mg" in await lap.inner_text("#note-choice-fields")
        # Her text starts an addendum to the signed note.
        await lap.click("#note-choice-actions button:not(.secondary)")
        await lap.wait_for_url(lambda url: note_id not in url)
        await ready(lap, "note")
        addendum = await _server_note(base, lap.url.rsplit("/", 1)[1], h["specialist"])
        assert (addendum["kind"], addendum["amends_id"], addendum["status"]) == (
            "addendum",
            note_id,
            "draft",
        )
        assert addendum["recommendations"] == "Naproxen 250 mg twice daily; rest."
        await lap.goto(f"{base}/notes/{note_id}")
        await ready(lap, "note")
        assert await lap.locator("#note-choice").is_hidden()  # her copy went to the addendum
        await laptop.close()

        # The clinician opens the signed note from its link and acknowledges it there.
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/notes/{note_id}")
        await ready(page, "note")
        assert await page.locator("#note-addendum").is_hidden()
        await page.click("#note-ack")
        await page.wait_for_selector("#note-ack", state="hidden")
        assert "Acknowledged" in await page.inner_text("#save-state")
        note = await _server_note(base, note_id, h["clinician"])
        assert note["acknowledged_by_id"] == prog.people["clinician"]["id"]
        await ctx.close()
