"""Closing a case and ending its follow-ups, in a real browser, so nothing is lost unseen.

- "Close the case" with a signed note not yet acknowledged, or a follow-up still open, asks
  first and says which (and that an open follow-up stays open, its owner still reminded);
  dismissed, nothing closes. With nothing pending it closes at once, as before.
- Done or Missed sends what was found (or why it was missed) with the status: the list and
  the record show it; what she types survives the list being drawn again.
- A closed case offers no "Plan a follow-up"; a page left open from before the close that
  tries is refused in her language, not in the API's English."""

import re
from datetime import timedelta
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    answered_case,
    assigned_case,
    bearers,
    clinician_case_page,
    ready,
    seeded_console,
    settled,
    signed_in,
    status_says,
)


async def _signed_consult(c: httpx.AsyncClient, h: dict[str, Any], case_id: str) -> str:
    r = await c.post(
        f"/api/v1/cases/{case_id}/notes",
        headers=h["specialist"],
        json={
            "kind": "consult",
            "assessment": "Discoid lupus possible.",
            "recommendations": "Biopsy if available; sun protection.",
        },
    )
    r.raise_for_status()
    note = r.json()["id"]
    r = await c.post(f"/api/v1/notes/{note}/sign", headers={**h["specialist"], "If-Match": '"1"'})
    r.raise_for_status()
    return str(note)


async def _plan(
    c: httpx.AsyncClient, h: dict[str, Any], case_id: str, what: str, owner: str
) -> dict[str, Any]:
    r = await c.post(
        f"/api/v1/cases/{case_id}/follow-ups",
        headers=h["clinician"],
        json={
            "due_at": (utcnow() + timedelta(days=7)).isoformat(),
            "description": what,
            "assignee_id": owner,
        },
    )
    r.raise_for_status()
    return dict(r.json())


async def test_closing_asks_first_while_a_note_or_a_follow_up_waits(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Plaque on the cheek: what is it?")
            await _signed_consult(c, h, case_id)
            await _plan(c, h, case_id, "Review the biopsy result", prog.people["clinician"]["id"])

        ctx, page = await clinician_case_page(b, base, prog, case_id, lang="en", phone=True)
        asked: list[str] = []
        answers = ["dismiss", "accept"]

        async def answer(dialog: Any) -> None:
            asked.append(dialog.message)
            await getattr(dialog, answers.pop(0) if answers else "dismiss")()

        page.on("dialog", answer)
        await page.fill("#outcome", "Biopsy booked at the district hospital.")
        async with page.expect_event("dialog", timeout=5000):
            await page.click("#close-form button[type=submit]")
        await settled(page)
        assert len(asked) == 1, asked
        assert "not acknowledged" in asked[0], asked
        assert "1 follow-up is still open" in asked[0], asked
        assert "stays open" in asked[0], asked
        assert asked[0].endswith("Close the case anyway?"), asked
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}", headers=h["clinician"])
            assert r.json()["status"] == "answered"  # dismissed: nothing closed
        assert await page.input_value("#outcome") == "Biopsy booked at the district hospital."

        # Acknowledged: only the open follow-up is named; confirmed, the case closes.
        await page.click("#note-list button.ack")
        await page.wait_for_selector("#note-list [data-state=open]")
        await settled(page)
        async with page.expect_event("dialog", timeout=5000):
            await page.click("#close-form button[type=submit]")
        await page.wait_for_selector("#case-status.status-closed", timeout=10000)
        await settled(page)  # the status is drawn first, the sections below it after
        assert len(asked) == 2, asked
        assert "acknowledged" not in asked[1] and "1 follow-up is still open" in asked[1], asked

        # Closed: the follow-up is still open (and can still be ended); none can be planned.
        item = page.locator("#followup-list li", has_text="Review the biopsy result")
        assert "Open" in await item.inner_text()
        assert await item.locator("button", has_text="Done").is_visible()
        assert await page.locator("#followups").is_visible()
        assert await page.locator("#followup-form").is_hidden()
        await ctx.close()

        # Nothing pending: closed at once, nothing asked.
        quiet = await answered_case(factory, prog)
        ctx, page = await clinician_case_page(b, base, prog, quiet.id, lang="en")
        asked.clear()
        page.on("dialog", answer)
        await page.fill("#outcome", "Settled with emollients.")
        await page.click("#close-form button[type=submit]")
        await page.wait_for_selector("#case-status.status-closed", timeout=10000)
        assert asked == []
        await ctx.close()


async def test_closing_in_spanish_names_each_wait(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Placa en la mejilla: ¿qué es?")
            await _signed_consult(c, h, case_id)
            for what in ("Ver la biopsia", "Control a las 4 semanas"):
                await _plan(c, h, case_id, what, prog.people["clinician"]["id"])
        ctx, page = await clinician_case_page(b, base, prog, case_id, lang="es", phone=True)
        asked: list[str] = []

        async def dismiss(dialog: Any) -> None:
            asked.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)
        await page.fill("#outcome", "Biopsia pedida.")
        async with page.expect_event("dialog", timeout=5000):
            await page.click("#close-form button[type=submit]")
        await settled(page)
        assert len(asked) == 1, asked
        assert "Nota de interconsulta" in asked[0], asked
        assert "2 seguimientos siguen pendientes" in asked[0], asked
        assert "¿Cerrar el caso de todos modos?" in asked[0], asked
        await ctx.close()


async def test_done_and_missed_carry_what_was_found(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        case = await answered_case(
            factory,
            prog,
            question="Chronic leg ulcer: dressing advice?",
        )
        me = prog.people["clinician"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            await _plan(c, h, case.id, "Measure the ulcer", me)
            await _plan(c, h, case.id, "Swab the wound edge", me)

        ctx, page = await clinician_case_page(b, base, prog, case.id, lang="en", phone=True)
        asked: list[str] = []
        answers = ["dismiss", "accept", "accept"]

        async def answer(dialog: Any) -> None:
            asked.append(dialog.message)
            await getattr(dialog, answers.pop(0))()

        page.on("dialog", answer)
        ulcer = page.locator("#followup-list li", has_text="Measure the ulcer")
        found = ulcer.get_by_label("What was found, or why it was missed")
        await found.fill("2 cm smaller, granulating.")
        # The list drawn again (another follow-up planned): what she typed is still there.
        await page.fill("#fu-due", (utcnow() + timedelta(days=21)).strftime("%Y-%m-%dT09:00"))
        await page.fill("#fu-description", "Photo at three weeks")
        await page.click("#followup-form button[type=submit]")
        await page.locator("#followup-list li", has_text="Photo at three weeks").wait_for()
        assert await found.input_value() == "2 cm smaller, granulating."

        # A slip: asked, dismissed, nothing sent and nothing she typed lost.
        async with page.expect_event("dialog", timeout=5000):
            await ulcer.locator("button", has_text="Done").click()
        await settled(page)
        assert "Measure the ulcer" in asked[0] and "final" in asked[0], asked
        assert await found.input_value() == "2 cm smaller, granulating."
        async with page.expect_event("dialog", timeout=5000):
            await ulcer.locator("button", has_text="Done").click()
        await status_says(page, "Recorded", "Measure the ulcer")
        await ulcer.locator("text=2 cm smaller, granulating.").wait_for()
        await page.locator(
            "#record-list li", has_text="Measure the ulcer · Done · 2 cm smaller, granulating."
        ).wait_for()

        # Missed with nothing written: the question says so before it is final.
        swab = page.locator("#followup-list li", has_text="Swab the wound edge")
        async with page.expect_event("dialog", timeout=5000):
            await swab.locator("button", has_text="Missed").click()
        await page.locator("#record-list li", has_text="Swab the wound edge · Missed").wait_for()
        assert "no outcome written" in asked[2] and "final" in asked[2], asked

        # Cancelled: no finding recorded, whatever is in its box (the box keeps it).
        answers.append("accept")
        photo = page.locator("#followup-list li", has_text="Photo at three weeks")
        await photo.get_by_label("What was found, or why it was missed").fill("Not needed.")
        async with page.expect_event("dialog", timeout=5000):
            await photo.locator("button", has_text="Cancel").click()
        await page.locator(
            "#record-list li", has_text="Photo at three weeks · Cancelled"
        ).wait_for()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(
                "/api/v1/follow-ups", params={"case_id": case.id}, headers=h["clinician"]
            )
            got = {f["description"]: (f["status"], f["outcome"]) for f in r.json()["items"]}
        assert got == {
            "Measure the ulcer": ("done", "2 cm smaller, granulating."),
            "Swab the wound edge": ("missed", None),
            "Photo at three weeks": ("cancelled", None),
        }
        await ctx.close()


async def test_a_closed_case_takes_no_follow_up_and_a_stale_page_is_told_in_spanish(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        case = await answered_case(factory, prog)
        ctx = await b.new_context(locale="es-AR")
        await ctx.clock.set_fixed_time(utcnow())
        # The page hears nothing live (a link that dropped its socket): it stays as it was.
        await ctx.route_web_socket(re.compile(".*"), lambda ws: None)
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), lang="es")
        await page.goto(f"{base}/cases/{case.id}")
        await ready(page, "case")
        assert await page.locator("#followup-form").is_visible()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            r = await c.post(
                f"/api/v1/cases/{case.id}/close",
                headers=h["coordinator"],
                json={"outcome": "Closed by the programme."},
            )
            r.raise_for_status()
        await page.fill("#fu-due", (utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT09:00"))
        await page.fill("#fu-description", "Control en una semana")
        await page.click("#followup-form button[type=submit]")
        box = page.locator("#fu-problem")
        await box.wait_for()
        said = await box.inner_text()
        assert "cerrado" in said and "takes no new" not in said, said

        await page.reload()
        await ready(page, "case")
        await page.wait_for_selector("#case-status.status-closed")
        assert await page.locator("#followups").is_visible()
        assert await page.locator("#followup-form").is_hidden()
        await ctx.close()
