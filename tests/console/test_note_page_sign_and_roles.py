"""The note editor in a real browser. A double click on "Sign the note" asks once and signs
once (no second dialog, no red "signed and final" after the note was signed). An
interpreter opening a draft reads it, told that only the case's specialist writes and signs
it (no fields to type in, no button to sign), in her language. The editor shows the case's
question (and its summary, folded on a phone) read-only, with a link back to the case."""

from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    add_person,
    assigned_case,
    bearers,
    ready,
    seeded_console,
    signed_in,
    submit_case,
)


async def _draft(c: httpx.AsyncClient, h: dict[str, dict[str, str]], case_id: str) -> str:
    r = await c.post(
        f"/api/v1/cases/{case_id}/notes",
        headers=h["specialist"],
        json={
            "kind": "consult",
            "assessment": "Allergic contact dermatitis.",
            "recommendations": "Stop the new soap; a mild steroid cream for a week.",
        },
    )
    r.raise_for_status()
    return str(r.json()["id"])


async def _page(b: Any, base: str, email: str, lands_on: str, **options: Any) -> tuple[Any, Any]:
    ctx = await b.new_context(**options)
    await ctx.clock.set_fixed_time(utcnow())
    page = await ctx.new_page()
    await signed_in(page, base, email, lands_on)
    return ctx, page


async def test_a_double_click_signs_the_note_once(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Itchy rash on the forearms?")
            note_id = await _draft(c, h, case_id)
        ctx, page = await _page(b, base, prog.email("specialist"), "inbox", locale="en-GB")
        dialogs: list[str] = []

        async def accept(d: Any) -> None:
            dialogs.append(d.message)
            await d.accept()

        page.on("dialog", accept)
        said: list[str] = []
        await page.expose_function("heard", lambda kind, text: said.append(f"{kind}:{text}"))
        await page.goto(f"{base}/notes/{note_id}")
        await ready(page, "note")
        await page.evaluate(
            "new MutationObserver(() => { const s = document.getElementById('status');"
            " if (s.textContent) window.heard(s.dataset.kind, s.textContent); })"
            ".observe(document.getElementById('status'), {childList: true, characterData: true,"
            " subtree: true})"
        )
        await page.dblclick("#note-sign")
        await page.wait_for_url(f"**/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#note-list [data-note-id]")
        assert len(dialogs) == 1, dialogs
        assert not [s for s in said if s.startswith("error:")], said
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "specialist")
            r = await c.get(f"/api/v1/notes/{note_id}", headers=h["specialist"])
        assert r.json()["status"] == "signed"


async def test_an_interpreter_reads_a_draft_note_without_a_form_in_spanish(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "¿Eccema de contacto en los antebrazos?")
            note_id = await _draft(c, h, case_id)
            marta = await add_person(c, "interpreter", "Marta Quispe", "interpreter")
            r = await c.post(
                f"/api/v1/cases/{case_id}/participants",
                headers=h["coordinator"],
                json={"user_id": marta["id"], "role": "interpreter"},
            )
            r.raise_for_status()
        ctx = await b.new_context(locale="es-ES")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, "interpreter@console.example.org", lang="es")
        await page.goto(f"{base}/notes/{note_id}")
        await ready(page, "note")
        await page.wait_for_selector("#note-page:not([hidden])")
        main = await page.inner_text("main")
        assert "Solo el especialista del caso redacta y firma esta nota" in main, main
        assert "se guardan mientras escribe" not in main, main
        assert await page.locator("#note-sign").is_hidden()
        assert await page.locator("textarea:visible").count() == 0
        assert "Allergic contact dermatitis." in main  # the draft, to read

        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        line = page.locator("#role-line")
        await line.wait_for()
        said = await line.inner_text()
        assert "intérprete" in said and "no redacta notas" in said, said


async def test_the_editor_shows_the_question_it_answers(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        question = "Umbilicated papules on the trunk of a child: molluscum or something else?"
        summary = "Six weeks. No fever. A sibling has the same."
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await submit_case(c, h["clinician"], question, summary=summary)
            r = await c.post(
                f"/api/v1/cases/{case_id}/offers",
                headers=h["coordinator"],
                json={"specialist_ids": [prog.people["specialist"]["id"]]},
            )
            assert r.status_code in (201, 422), r.text
            r = await c.get(
                "/api/v1/offers",
                params={"case_id": case_id, "status": "pending"},
                headers=h["specialist"],
            )
            r = await c.post(
                f"/api/v1/offers/{r.json()['items'][0]['id']}/accept", headers=h["specialist"]
            )
            r.raise_for_status()
            note_id = await _draft(c, h, case_id)
        for width, folded in ((1280, False), (360, True)):
            ctx, page = await _page(
                b,
                base,
                prog.email("specialist"),
                "inbox",
                locale="en-GB",
                viewport={"width": width, "height": 740},
            )
            await page.goto(f"{base}/notes/{note_id}")
            await ready(page, "note")
            box = page.locator("#note-case")
            await box.wait_for()
            assert question in await box.inner_text()
            summary_box = page.locator("#note-case-summary")
            assert (await summary_box.get_attribute("open") is None) == folded
            await page.click("#note-case-summary summary") if folded else None
            assert summary in await summary_box.inner_text()
            assert await page.get_attribute("#back-to-case", "href") == f"/cases/{case_id}"
            assert await page.locator("#note-case textarea, #note-case input").count() == 0
            await ctx.close()


async def test_a_draft_another_specialist_wrote_is_said_before_she_signs_it(app, factory):
    """The case's other specialist (or the next one, after the first was deactivated) may
    finish and sign a draft she did not write: the page names who wrote it first."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Itchy rash on the forearms?")
            note_id = await _draft(c, h, case_id)
            second = await add_person(c, "okoro", "Dr Ada Okoro", "specialist")
            r = await c.post(
                f"/api/v1/cases/{case_id}/participants",
                headers=h["coordinator"],
                json={"user_id": second["id"], "role": "specialist"},
            )
            r.raise_for_status()
        first = prog.people["specialist"]["name"]
        ctx, page = await _page(b, base, "okoro@console.example.org", "inbox", locale="en-GB")
        await page.goto(f"{base}/notes/{note_id}")
        await ready(page, "note")
        drafted = page.locator("#note-drafted-by")
        await drafted.filter(has_text=first).wait_for()
        assert await drafted.inner_text() == (
            f"{first} wrote this draft. Read it through before you sign it as yours."
        )
        assert await page.is_visible("#note-sign")
        await ctx.close()

        # Her own draft says nothing of the kind.
        ctx, page = await _page(b, base, prog.email("specialist"), "inbox", locale="en-GB")
        await page.goto(f"{base}/notes/{note_id}")
        await ready(page, "note")
        assert await page.is_hidden("#note-drafted-by")
        await ctx.close()
