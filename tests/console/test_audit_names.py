"""The audit page names who acted (it showed bare user ids), keeping the id at hand, and
says what was done in the reader's words (it showed codes like `case.read` on every
language's page), keeping the code at hand too; a refused attempt says so. What the
service did on its own schedule is said to be the service's (it said "anonymous")."""

import httpx

from app.audit import service as audit
from app.core.db import unit_of_work
from tests.console.support import bearers, ready, seeded_console, signed_in, submit_case


async def test_the_audit_page_names_the_person_who_acted(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        clinician = prog.people["clinician"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician")
            case_id = await submit_case(c, h["clinician"], "Wound not healing after 3 weeks")
            async with unit_of_work() as s:  # as the worker's overdue pass writes it
                await audit.append(s, audit.SERVICE, "case.overdue", "case", case_id)
            r = await c.get(f"/api/v1/cases/{case_id}", headers=h["clinician"])
            r.raise_for_status()
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("admin"))
        await page.goto(f"{base}/admin/audit")
        await ready(page, "audit")
        row = page.locator("#audit-table tbody tr", has_text=case_id).first
        await row.wait_for()
        actor = row.locator("td").nth(1)
        await actor.filter(has_text=clinician["name"]).wait_for()
        assert await actor.get_attribute("title") == clinician["id"]
        what = row.locator("td").nth(2)
        assert await what.inner_text() == "Read a case" and await what.get_attribute("title") == (
            "case.read"
        )
        by_service = page.locator("#audit-table tbody tr", has_text="Found a case overdue").first
        assert await by_service.locator("td").nth(1).inner_text() == "The service"
        await ctx.close()

        # In Spanish; and a clinician of another facility refused the case: said as refused.
        outsider = await factory.make_user(
            "clinician", organization_id=(await factory.make_org(name="Otra clínica")).id
        )
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}", headers=factory.headers(outsider))
            assert r.status_code == 404
        ctx = await b.new_context(locale="es-AR")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("admin"), lang="es")
        await page.goto(f"{base}/admin/audit")
        await ready(page, "audit")
        rows = page.locator("#audit-table tbody tr", has_text=case_id)
        await rows.filter(has_text="Envió un caso").first.wait_for()
        await rows.filter(has_text="Leyó un caso (denegado)").first.wait_for()
        await rows.filter(has_text="El servicio").first.wait_for()
        await ctx.close()


async def test_an_account_changed_is_named_and_says_how(app, factory):
    """An account switched off read "Changed an account · user usr_…": it names the account
    and says it was deactivated (the id kept as the cell's title)."""
    from tests.console.support import add_person

    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            tom = await add_person(c, "tom", "Tom Becker", "coordinator")
            h = await bearers(c, prog, "admin")
            r = await c.patch(
                f"/api/v1/users/{tom['id']}", json={"active": False}, headers=h["admin"]
            )
            r.raise_for_status()
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("admin"))
        await page.goto(f"{base}/admin/audit")
        await ready(page, "audit")
        row = page.locator("#audit-table tbody tr", has_text="Changed an account").first
        await row.wait_for()
        assert await row.locator("td").nth(2).inner_text() == "Changed an account (deactivated)"
        on = row.locator("td").nth(3)
        await on.filter(has_text="Tom Becker").wait_for()
        assert await on.inner_text() == "Account · Tom Becker"
        assert await on.get_attribute("title") == tom["id"]
        await ctx.close()
