"""The note page is titled by the note's kind, as the case page names it (a progress note is
not a "Consult note", nor in French a "Compte rendu d'avis"), and an addendum says which
signed note it amends: its kind, when it was signed and by whom, with a link to it."""

from typing import Any

import httpx

from tests.console.support import assigned_case, bearers, ready, seeded_console, signed_in


async def _title(page: Any, base: str, lang: str, note_id: str) -> str:
    await page.goto(f"{base}/lang/{lang}?next=/notes/{note_id}")
    await ready(page, "note")
    heading = str(await page.inner_text("main h1"))
    assert (await page.title()).startswith(heading + " · ")
    return heading


async def test_the_note_page_is_titled_by_its_kind_and_an_addendum_names_what_it_amends(
    app, factory
):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Pruritic papules on both wrists?")
            notes = {}
            for kind, fields in (
                ("consult", {"assessment": "Lichen planus.", "recommendations": "Clobetasol."}),
                ("progress", {"assessment": "Better after a week."}),
            ):
                r = await c.post(
                    f"/api/v1/cases/{case_id}/notes",
                    headers=h["specialist"],
                    json={"kind": kind, **fields},
                )
                r.raise_for_status()
                notes[kind] = r.json()["id"]
            r = await c.post(
                f"/api/v1/notes/{notes['consult']}/sign",
                headers={**h["specialist"], "If-Match": '"1"'},
            )
            r.raise_for_status()
            signed_at = r.json()["signed_at"]
            r = await c.post(
                f"/api/v1/cases/{case_id}/notes",
                headers=h["specialist"],
                json={
                    "kind": "addendum",
                    "amends_id": notes["consult"],
                    "assessment": "Also oral.",
                },
            )
            r.raise_for_status()
            notes["addendum"] = r.json()["id"]

        ctx = await b.new_context()
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(page, base, prog.email("specialist"), "inbox")
        assert await _title(page, base, "en", notes["progress"]) == "Progress note"
        assert await _title(page, base, "en", notes["consult"]) == "Consult note"
        assert await _title(page, base, "fr", notes["progress"]) == "Note d'évolution"
        assert await _title(page, base, "fr", notes["consult"]) == "Compte rendu d'avis"
        assert await _title(page, base, "es", notes["progress"]) == "Nota de evolución"

        assert await _title(page, base, "en", notes["addendum"]) == "Addendum"
        amends = page.locator("#note-amends a")
        await amends.wait_for()
        when = await page.evaluate(
            "(iso) => new Intl.DateTimeFormat(document.documentElement.lang,"
            " {dateStyle: 'medium', timeStyle: 'short'}).format(new Date(iso))",
            signed_at,
        )
        said = await amends.inner_text()
        assert said == f"Amends an earlier signed note: Consult note, signed {when} by Dr Ana Ruiz."
        assert await amends.get_attribute("href") == f"/notes/{notes['consult']}"
        # Neither a consult note nor a progress note amends anything.
        await _title(page, base, "en", notes["progress"])
        assert await page.locator("#note-amends").is_hidden()

        # The clinician reads the addendum in French: its kind and what it amends, in hers.
        clin = await (await b.new_context()).new_page()
        await signed_in(clin, base, prog.email("clinician"), "cases")
        assert await _title(clin, base, "fr", notes["addendum"]) == "Addendum"
        await clin.locator("#note-amends a").wait_for()
        assert "Compte rendu d'avis (signature du" in await clin.inner_text("#note-amends a")
        assert errors == []
        await ctx.close()
