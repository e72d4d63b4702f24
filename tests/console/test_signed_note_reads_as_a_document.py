"""A signed consult note reads as a document, not as a form switched off: its text in
blocks, who signed it and when, in the reader's time; the case's record says which version
was signed in words ("version 2"), not "v2". The facility's card, there for the one writing
advice, is not put before the advice for the one reading it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from app.core.clock import utcnow
from tests.console.support import assigned_case, bearers, ready, seeded_console, signed_in

SALTA = ZoneInfo("America/Argentina/Salta")
MONTHS = "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split()


def _french(at: str) -> str:
    """An instant as a French browser in Salta writes it (dateStyle medium, timeStyle short)."""
    d = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(SALTA)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}, {d:%H:%M}"


async def test_a_signed_note_reads_as_a_document(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "¿Placas violáceas en las piernas?")
            r = await c.post(
                f"/api/v1/cases/{case_id}/notes",
                headers=h["specialist"],
                json={"kind": "consult", "assessment": "Eritema nudoso probable."},
            )
            r.raise_for_status()
            note_id = r.json()["id"]
            r = await c.patch(
                f"/api/v1/notes/{note_id}",
                headers={**h["specialist"], "If-Match": '"1"'},
                json={"recommendations": "Reposo y piernas elevadas."},
            )
            r.raise_for_status()
            r = await c.post(
                f"/api/v1/notes/{note_id}/sign", headers={**h["specialist"], "If-Match": '"2"'}
            )
            r.raise_for_status()
            signed = (await c.get(f"/api/v1/notes/{note_id}", headers=h["specialist"])).json()

        ctx = await b.new_context(locale="fr-FR", timezone_id="America/Argentina/Salta")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), lang="fr")
        await page.goto(f"{base}/notes/{note_id}")
        await ready(page, "note")
        when = _french(signed["signed_at"])
        document = page.locator("#note-document")
        await document.wait_for()
        assert await page.locator("main textarea:visible").count() == 0  # no form
        assert await page.inner_text("#note-signed-by") == f"Signé par Dr Ana Ruiz, {when}"
        body = await page.inner_text("#note-document-body")
        assert body.split("\n") == [
            "Évaluation",
            "Eritema nudoso probable.",
            "Recommandations",
            "Reposo y piernas elevadas.",
        ], body
        assert await page.locator("#note-ack").is_visible()  # still hers to acknowledge
        # Her own facility's card (what it has, for the one writing advice) does not stand
        # between the question and the advice: once every read is done, it is still hidden.
        await page.wait_for_load_state("networkidle")
        assert await page.locator("#facility").is_hidden()

        # The case's record: the version in words; the note there says who signed it too.
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        entry = page.locator("#record-list li[data-type=note]")
        await entry.wait_for()
        said = await entry.inner_text()
        assert said.endswith(f"Compte rendu d'avis · version {signed['version']}"), said
        by = page.locator(f"#note-list [data-note-id='{note_id}'] .signed-by")
        await page.wait_for_function(
            "(el) => el.textContent.startsWith('Signé par')", arg=await by.element_handle()
        )
        assert await by.inner_text() == f"Signé par Dr Ana Ruiz, {when}"
        await ctx.close()
