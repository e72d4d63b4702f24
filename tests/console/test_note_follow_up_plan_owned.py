"""A follow-up plan written in a note is text for the clinic; care after the call needs a
follow-up with a date and an owner, planned on the case page. The note editor says so
beside the Follow-up plan field, with a link to the case page's follow-up form. Signing a
note whose plan is not empty while the case has no open follow-up leaves her on the signed
note, told plainly, with "Plan the follow-up" to the case page's form (in view, its first
field focused). A case with an open follow-up already is signed as before: straight back to
the case, nothing more said."""

from datetime import timedelta
from typing import Any

import httpx

from app.core.clock import utcnow
from tests.console.support import (
    add_person,
    assigned_case,
    bearers,
    plan_follow_up,
    ready,
    seeded_console,
    sign_note,
    signed_in,
)

PLAN = "Review in 48 hours: if the rash spreads, start an oral antihistamine."


async def _draft(c: httpx.AsyncClient, h: dict[str, dict[str, str]], case_id: str) -> str:
    r = await c.post(
        f"/api/v1/cases/{case_id}/notes",
        headers=h["specialist"],
        json={
            "kind": "consult",
            "assessment": "Allergic contact dermatitis.",
            "recommendations": "Stop the new soap; a mild steroid cream for a week.",
            "follow_up_plan": PLAN,
        },
    )
    r.raise_for_status()
    return str(r.json()["id"])


async def _editor(b: Any, base: str, email: str, note_id: str) -> tuple[Any, Any]:
    ctx = await b.new_context(locale="en-GB")
    await ctx.clock.set_fixed_time(utcnow())
    page = await ctx.new_page()

    async def accept(d: Any) -> None:
        await d.accept()

    page.on("dialog", accept)
    await signed_in(page, base, email)
    await page.goto(f"{base}/notes/{note_id}")
    await ready(page, "note")
    await page.wait_for_selector("#note-form:not([hidden])")
    return ctx, page


async def _at_the_follow_up_form(page: Any, case_id: str) -> None:
    await page.wait_for_url(f"**/cases/{case_id}**")
    await ready(page, "case")
    await page.wait_for_function("document.activeElement?.id === 'fu-due'")
    assert await page.locator("#followup-form").is_visible()
    assert await page.locator("#followups").is_visible()
    # Brought into view: the page scrolled down to it, not left at its top.
    seen = await page.evaluate(
        "(() => { const r = document.getElementById('followups').getBoundingClientRect();"
        " return [r.top, r.bottom, innerHeight, scrollY]; })()"
    )
    top, bottom, height, scrolled = seen
    assert top < height and bottom > 0 and scrolled > 0, seen


async def test_the_editor_says_where_a_follow_up_is_planned(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Itchy rash on the forearms?")
            note_id = await _draft(c, h, case_id)
        ctx, page = await _editor(b, base, prog.email("specialist"), note_id)
        help_ = page.locator("#note-follow_up_plan-help")
        assert await help_.is_visible()
        said = await help_.inner_text()
        assert "text for the clinic" in said and "date and an owner" in said, said
        described = await page.get_attribute("#note-follow_up_plan", "aria-describedby")
        assert "note-follow_up_plan-help" in (described or "").split(), described
        link = help_.locator("a")
        assert await link.get_attribute("href") == f"/cases/{case_id}#followup-form"
        await link.click()
        await _at_the_follow_up_form(page, case_id)
        await ctx.close()


async def test_signing_a_plan_nobody_owns_offers_to_plan_the_follow_up(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Itchy rash on the forearms?")
            note_id = await _draft(c, h, case_id)
        ctx, page = await _editor(b, base, prog.email("specialist"), note_id)
        await page.click("#note-sign")
        notice = page.locator("#note-plan-unowned")
        await notice.wait_for()
        said = await notice.inner_text()
        assert "no follow-up" in said and "date" in said and "owner" in said, said
        assert page.url.endswith(f"/notes/{note_id}")  # she stays with what she signed
        assert await page.locator("#note-document").is_visible()  # signed, as a document
        go = notice.get_by_role("link", name="Plan the follow-up")
        assert await go.get_attribute("href") == f"/cases/{case_id}#followup-form"
        await go.click()
        await _at_the_follow_up_form(page, case_id)
        await ctx.close()


async def test_a_case_with_an_open_follow_up_is_signed_as_before(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Itchy rash on the forearms?")
            note_id = await _draft(c, h, case_id)
            r = await c.post(
                f"/api/v1/cases/{case_id}/follow-ups",
                headers=h["specialist"],
                json={
                    "due_at": (utcnow() + timedelta(days=2)).isoformat(),
                    "description": "Review the rash.",
                    "assignee_id": prog.people["specialist"]["id"],
                },
            )
            r.raise_for_status()
        ctx, page = await _editor(b, base, prog.email("specialist"), note_id)
        await page.click("#note-sign")
        await page.wait_for_url(f"**/cases/{case_id}")
        await ready(page, "case")
        assert await page.locator("#note-plan-unowned").count() == 0
        await ctx.close()


async def _open_signed(b: Any, base: str, email: str, note_id: str) -> Any:
    ctx = await b.new_context(locale="en-GB")
    page = await ctx.new_page()
    await signed_in(page, base, email)
    await page.goto(f"{base}/notes/{note_id}")
    await ready(page, "note")
    await page.wait_for_selector("#note-document:not([hidden])")
    return page


async def test_a_plan_nobody_owns_is_said_whenever_the_note_is_opened(app, factory):
    """Not only at signing: the specialist who moved on, and the clinic reading the note
    later, are told each time they open it until a follow-up is planned; the interpreter on
    the case, who plans none, is not."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Itchy rash on the forearms?")
            note_id = await _draft(c, h, case_id)
            await sign_note(c, h["specialist"], note_id)
            rosa = await add_person(c, "rosa", "Rosa Quispe", "interpreter", languages=["es"])
            r = await c.post(
                f"/api/v1/cases/{case_id}/participants",
                headers=h["clinician"],
                json={"user_id": rosa["id"], "role": "interpreter"},
            )
            r.raise_for_status()

        for email in (prog.email("specialist"), prog.email("clinician")):
            page = await _open_signed(b, base, email, note_id)
            notice = page.locator("#note-plan-unowned")
            await notice.wait_for()
            assert "no follow-up" in await notice.inner_text()
            go = notice.get_by_role("link", name="Plan the follow-up")
            assert await go.get_attribute("href") == f"/cases/{case_id}#followup-form"
            # Opened, not just signed: the focus is left where the page puts it.
            assert await page.evaluate("document.activeElement?.id") != "note-plan-go"
            await page.context.close()
        page = await _open_signed(b, base, "rosa@console.example.org", note_id)
        await page.wait_for_selector("#version-list li")
        assert await page.locator("#note-plan-unowned").is_hidden()
        await page.context.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            fu = await plan_follow_up(
                c, h["clinician"], case_id, prog.people["clinician"]["id"], "Review the rash."
            )
        page = await _open_signed(b, base, prog.email("specialist"), note_id)
        await page.wait_for_selector("#version-list li")
        assert await page.locator("#note-plan-unowned").is_hidden()
        await page.context.close()
        # Done since: the plan was carried out, not left unowned.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.patch(
                f"/api/v1/follow-ups/{fu['id']}",
                headers={**h["clinician"], "If-Match": f'"{fu["version"]}"'},
                json={"status": "done", "outcome": "Cleared."},
            )
            r.raise_for_status()
        page = await _open_signed(b, base, prog.email("specialist"), note_id)
        await page.wait_for_selector("#version-list li")
        assert await page.locator("#note-plan-unowned").is_hidden()
        await page.context.close()
