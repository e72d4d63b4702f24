"""A note that says nothing a clinician can act on is not signed, in a real browser: the
specialist who presses "Sign the note" on a blank consult note is told, beside each empty
field and in her language (Spanish, French, English), what it needs; what she typed stays
in the form and on the server, the case keeps waiting for its answer."""

from typing import Any

import httpx

from tests.console.support import assigned_case, bearers, ready, seeded_console, signed_in

NEEDED = {
    "es": "debe escribirse antes de firmar",
    "fr": "à rédiger avant de signer",
    "en": "must be written before signing",
}


async def _server(base: str, path: str, h: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=20) as c:
        r = await c.get(f"/api/v1{path}", headers=h)
        r.raise_for_status()
        return dict(r.json())


async def _in(page: Any, base: str, lang: str, note_id: str) -> None:
    await page.goto(f"{base}/lang/{lang}?next=/notes/{note_id}")
    await ready(page, "note")
    assert await page.get_attribute("html", "lang") == lang


async def _refused(page: Any, lang: str, *missing: str) -> None:
    """Sign, and the refusal stands beside exactly the fields named, in `lang`."""
    await page.click("#note-sign")
    await page.wait_for_selector("#note-problem:not([hidden])")
    for f in ("assessment", "recommendations", "follow_up_plan", "red_flags", "referral_advice"):
        hint = page.locator(f"#note-{f}-problem")
        if f in missing:
            assert await hint.inner_text() == NEEDED[lang]
            assert await page.get_attribute(f"#note-{f}", "aria-invalid") == "true"
            assert await page.get_attribute(f"#note-{f}", "aria-describedby") == f"note-{f}-problem"
        else:
            assert await hint.is_hidden()
            assert await page.get_attribute(f"#note-{f}", "aria-invalid") is None


async def test_a_blank_note_is_refused_beside_its_empty_fields_in_her_language(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Itchy annular plaques on the trunk?")

        ctx = await b.new_context(viewport={"width": 360, "height": 740})
        page = await ctx.new_page()
        asked: list[str] = []  # "Sign this note?" is asked only of a note that can be

        async def answer(d: Any) -> None:
            asked.append(d.message)
            await d.accept()

        page.on("dialog", answer)
        await signed_in(page, base, prog.email("specialist"), lang="es")
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.click("#note-new")
        await ready(page, "note")
        note_id = page.url.rsplit("/", 1)[1]

        # Nothing typed: both fields a consult note needs are named, in Spanish.
        await _refused(page, "es", "assessment", "recommendations")
        assert "valoración y recomendaciones" in await page.inner_text("#note-problem")
        note = await _server(base, f"/notes/{note_id}", h["specialist"])
        assert (note["status"], note["version"]) == ("draft", 1)
        assert (await _server(base, f"/cases/{case_id}", h["specialist"]))["status"] == "assigned"

        # She writes the assessment: its mark goes as she types; the recommendations still
        # lack, and her assessment stays, in the form and on the server.
        await page.fill("#note-assessment", "Probable tiña corporal.")
        assert await page.locator("#note-assessment-problem").is_hidden()
        await page.wait_for_selector("#save-state[data-state=saved]")
        await _refused(page, "es", "recommendations")
        assert await page.input_value("#note-assessment") == "Probable tiña corporal."
        note = await _server(base, f"/notes/{note_id}", h["specialist"])
        assert (note["status"], note["assessment"]) == ("draft", "Probable tiña corporal.")

        # Spaces are not recommendations; said in French and in English too.
        await _in(page, base, "fr", note_id)
        await page.fill("#note-recommendations", "   ")
        await page.wait_for_selector("#save-state[data-state=saved]")
        await _refused(page, "fr", "recommendations")
        assert "évaluation et des recommandations" in await page.inner_text("#note-problem")
        await _in(page, base, "en", note_id)
        await _refused(page, "en", "recommendations")
        assert await page.input_value("#note-assessment") == "Probable tiña corporal."
        assert (await _server(base, f"/cases/{case_id}", h["specialist"]))["status"] == "assigned"
        assert asked == []  # told what is missing before being asked to sign, each time

        # With recommendations it signs, and the case is answered.
        await page.fill(
            "#note-recommendations", "Terbinafina crema 1% dos veces al día, 2 semanas."
        )
        await page.wait_for_selector("#save-state[data-state=saved]")
        await page.click("#note-sign")
        await page.wait_for_url(f"**/cases/{case_id}")
        await ready(page, "case")
        assert len(asked) == 1, asked
        assert (await _server(base, f"/notes/{note_id}", h["specialist"]))["status"] == "signed"
        assert (await _server(base, f"/cases/{case_id}", h["specialist"]))["status"] == "answered"
        await ctx.close()
