"""A note, or a follow-up, that is not yours to see, opened by its address in a real browser
on a phone: "not found" stands where the note would be, as on a case's page, with no form to
type in, no button to sign, no link to a case that goes nowhere, and no "Loading…" left."""

from datetime import timedelta
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
)

NOT_FOUND = "Not found, or not yours to see."


async def _shows_only_not_found(page: Any) -> None:
    said = page.locator("main > .error")
    assert await said.inner_text() == NOT_FOUND
    box = await said.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 740, box  # on the first screen
    assert "Loading" not in await page.inner_text("main")


async def test_a_note_of_another_facility_shows_not_found_in_place_of_the_note(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Nodule on the scalp?")
            r = await c.post(
                f"/api/v1/cases/{case_id}/notes",
                headers=h["specialist"],
                json={"kind": "consult", "assessment": "Pilar cyst likely."},
            )
            r.raise_for_status()
            note_id = r.json()["id"]
            r = await c.post(
                f"/api/v1/cases/{case_id}/follow-ups",
                headers=h["specialist"],
                json={
                    "due_at": (utcnow() + timedelta(days=7)).isoformat(),
                    "description": "Check the nodule",
                    "assignee_id": prog.people["clinician"]["id"],
                },
            )
            r.raise_for_status()
            follow_up_id = r.json()["id"]
            r = await c.post(
                "/api/v1/organizations",
                headers=h["coordinator"],
                json={"name": "Puesto de Salud Iruya", "country": "AR", "timezone": "UTC"},
            )
            r.raise_for_status()
            await add_person(
                c, "outsider", "Dr Outsider", "clinician", organization_id=r.json()["id"]
            )

        ctx = await b.new_context(viewport={"width": 360, "height": 740})
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await signed_in(page, base, "outsider@console.example.org", "cases")

        for path in (f"/notes/{note_id}", "/notes/note_doesnotexist"):
            await page.goto(base + path)
            await ready(page, "note")
            await _shows_only_not_found(page)
            for gone in ("#note-form", "#note-sign", "#back-to-case", "#version-list"):
                assert await page.locator(gone).is_hidden(), gone
            assert await page.locator("main textarea:visible").count() == 0
            assert await page.locator("main button:visible").count() == 0
            assert await page.locator("main a:not([href]):visible").count() == 0
            assert "Pilar cyst" not in await page.inner_text("main")

        for path in (f"/follow-ups/{follow_up_id}", "/follow-ups/fu_doesnotexist"):
            await page.goto(base + path)
            await ready(page, "followup")
            await _shows_only_not_found(page)
            assert "Check the nodule" not in await page.inner_text("main")
        assert errors == []
        await ctx.close()
