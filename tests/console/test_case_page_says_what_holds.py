"""What the case page says matches what holds for the person reading it, in a real browser.

- Feedback: after sending, and when the page is opened later, the form shows her feedback as
  she last gave it (rating, "it changed what we did", comment), so sending again to fix the
  comment keeps the rest; another clinician of the facility starts from her own (none).
- "Follow-up of": a link to the earlier case for those who always see it (the facility, the
  coordinators); an interpreter or a specialist, who may not, reads plain words, and the
  page never reads the earlier case to find out (a read is an audited access to a record).
- An overdue case says so beside its status, and its "Answer by" time is marked passed, in
  her language."""

from datetime import timedelta

import httpx
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.clock import utcnow
from app.core.db import sessionmaker
from tests.console.support import (
    add_person,
    answered_case,
    bearers,
    clinician_case_page,
    ready,
    seeded_console,
    settled,
    signed_in,
    status_says,
)


async def test_feedback_shows_as_last_given(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        case = await answered_case(factory, prog)
        ctx, page = await clinician_case_page(b, base, prog, case.id, lang="en", phone=True)
        await page.select_option("#fb-usefulness", "4")
        await page.check("#fb-changed")
        await page.fill("#fb-comment", "Clear advice.")
        await page.click("#feedback-form button[type=submit]")
        await status_says(page, "Thank you")
        await page.wait_for_selector("#feedback-given:not([hidden])")
        await settled(page)
        assert await page.input_value("#fb-usefulness") == "4"
        assert await page.is_checked("#fb-changed")
        assert await page.input_value("#fb-comment") == "Clear advice."

        # Sent again to fix the comment only: the rating and the yes are kept.
        await page.fill("#fb-comment", "Clear advice, fits our dressings.")
        # The status line still thanks her for the first: the second is known by its answer.
        async with page.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith("/feedback")
        ) as sent:
            await page.click("#feedback-form button[type=submit]")
        assert (await sent.value).status == 200  # it replaces her first
        await page.wait_for_function(
            "() => document.getElementById('status').textContent.includes('Thank you')"
        )
        await settled(page)
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            r = await c.get(f"/api/v1/cases/{case.id}/record", headers=h["clinician"])
            given = [e for e in r.json()["entries"] if e["type"] == "feedback"]
        assert [(g["usefulness"], g["changed_management"], g["comment"]) for g in given] == [
            (4, True, "Clear advice, fits our dressings.")
        ]
        assert given[0]["revision"] == 2

        # Opened later: as last given.
        await page.goto(f"{base}/cases")
        await ready(page, "cases")
        await page.goto(f"{base}/cases/{case.id}")
        await ready(page, "case")
        await page.wait_for_selector("#feedback-given:not([hidden])")
        assert await page.input_value("#fb-usefulness") == "4"
        assert await page.is_checked("#fb-changed")
        assert await page.input_value("#fb-comment") == "Clear advice, fits our dressings."
        await ctx.close()

        # Another clinician of the facility gives her own: her form starts unchosen.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            other = await add_person(
                c, "nurse", "Rosa Condori", "clinician", organization_id=prog.org["id"]
            )
        prog.people["nurse"] = other
        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, other["email"])
        await page.goto(f"{base}/cases/{case.id}")
        await ready(page, "case")
        await page.locator("#record-list li").first.wait_for()
        assert await page.locator("#feedback-given").is_hidden()
        assert await page.input_value("#fb-usefulness") == ""
        assert not await page.is_checked("#fb-changed")
        assert await page.input_value("#fb-comment") == ""
        await ctx.close()


async def test_the_earlier_case_is_a_link_only_for_those_who_may_open_it(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        earlier = await answered_case(
            factory,
            prog,
            status="closed",
            patient_reference="HSR-5120",
        )
        later = await factory.make_case(
            prog.org["id"],
            status="assigned",
            patient_reference="HSR-5120",
            follow_up_of_id=earlier.id,
            submitted_by_id=prog.people["clinician"]["id"],
            assigned_specialist_id=prog.people["specialist"]["id"],
        )
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            iris = await add_person(c, "iris", "Iris Mamani", "interpreter", languages=["es"])
        await factory.add_participant(later.id, iris["id"], "interpreter")

        # The facility's clinician always sees it: a link.
        ctx, page = await clinician_case_page(b, base, prog, later.id, lang="en")
        row = page.locator("#case-facts")
        await row.locator("a", has_text="the earlier case").wait_for()
        await ctx.close()
        # A specialist may or may not have been on it (matching only prefers her): words.
        ctx, page = await clinician_case_page(b, base, prog, later.id, lang="en", who="specialist")
        row = page.locator("#case-facts")
        await row.locator("dd", has_text="an earlier case").wait_for()
        assert await row.locator("a[href*='/cases/']").count() == 0
        await ctx.close()

        # The interpreter was not on it: words, no link to a page she cannot open.
        ctx = await b.new_context(locale="en-GB")
        await ctx.clock.set_fixed_time(utcnow())
        page = await ctx.new_page()
        await signed_in(page, base, iris["email"])
        await page.goto(f"{base}/cases/{later.id}")
        await ready(page, "case")
        facts = page.locator("#case-facts")
        await facts.locator("dd", has_text="an earlier case").wait_for()
        assert await facts.locator("a[href*='/cases/']").count() == 0
        await ctx.close()
        async with sessionmaker()() as s:
            asked = await s.scalars(
                select(AuditEntry).where(
                    AuditEntry.actor_id == iris["id"], AuditEntry.resource_id == earlier.id
                )
            )
            assert [(a.action, a.outcome) for a in asked.all()] == []


async def test_an_overdue_case_says_so_in_her_language(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        late = await factory.make_case(
            prog.org["id"],
            status="offered",
            overdue=True,
            respond_by=utcnow() - timedelta(hours=3),
            submitted_by_id=prog.people["clinician"]["id"],
        )
        ctx, page = await clinician_case_page(b, base, prog, late.id, lang="es", phone=True)
        flag = page.locator("#case-overdue")
        assert await flag.is_visible()
        assert await flag.inner_text() == "Atrasado"
        deadline = page.locator("#case-facts .deadline-passed")
        assert "vencido" in await deadline.inner_text()

        on_time = await factory.make_case(
            prog.org["id"], status="offered", submitted_by_id=prog.people["clinician"]["id"]
        )
        await page.goto(f"{base}/cases/{on_time.id}")
        await ready(page, "case")
        assert await page.locator("#case-overdue").is_hidden()
        assert await page.locator("#case-facts .deadline-passed").count() == 0
        await ctx.close()
