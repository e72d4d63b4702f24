"""Ending a follow-up is final (the service refuses any later change), so on a phone, in
Spanish, "No realizado" asks first, naming the follow-up and the choice: dismissed, nothing
is recorded; confirmed, it is recorded and the page says so."""

from datetime import timedelta

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    answered_case,
    bearers,
    clinician_case_page,
    seeded_console,
    settled,
    status_says,
)


async def test_missed_asks_first_and_says_it_is_recorded(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        case = await answered_case(
            factory,
            prog,
            question="Chronic leg ulcer: dressing advice?",
        )
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.post(
                f"/api/v1/cases/{case.id}/follow-ups",
                headers=h["clinician"],
                json={
                    "due_at": (utcnow() + timedelta(days=7)).isoformat(),
                    "description": "Medir la úlcera",
                    "assignee_id": prog.people["clinician"]["id"],
                },
            )
            r.raise_for_status()

        ctx, page = await clinician_case_page(b, base, prog, case.id, lang="es", phone=True)
        item = page.locator("#followup-list li", has_text="Medir la úlcera")
        await item.wait_for()

        asked: list[str] = []
        answers = ["dismiss", "accept"]

        async def answer(dialog):
            asked.append(dialog.message)
            await getattr(dialog, answers.pop(0))()

        page.on("dialog", answer)
        # A slip of the thumb: asked, and dismissed, nothing recorded.
        async with page.expect_event("dialog", timeout=5000):
            await item.locator("button", has_text="No realizado").click()
        await settled(page)
        assert len(asked) == 1, asked
        assert "Medir la úlcera" in asked[0] and "No realizado" in asked[0], asked
        assert "no se podrá cambiar" in asked[0], asked
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(
                "/api/v1/follow-ups", params={"case_id": case.id}, headers=h["clinician"]
            )
            assert [f["status"] for f in r.json()["items"]] == ["open"]
        assert await item.locator(".actions button").count() == 3  # its three endings: still open

        async with page.expect_event("dialog", timeout=5000):
            await item.locator("button", has_text="No realizado").click()
        assert len(asked) == 2 and asked[1] == asked[0], asked
        said = await status_says(page, "Medir la úlcera", "Registrado")
        assert "No realizado" in said, said
        await item.locator("button").first.wait_for(state="detached")
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(
                "/api/v1/follow-ups", params={"case_id": case.id}, headers=h["clinician"]
            )
            assert [f["status"] for f in r.json()["items"]] == ["missed"]
        await ctx.close()
