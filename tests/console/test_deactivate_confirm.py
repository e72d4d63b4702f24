"""Switching an account off from People, in a real browser and in Spanish: she is asked first,
the person named ("¿Desactivar a Tom Becker? ..."), and nothing happens unless she says yes.
One tap used to deactivate the account (and sign the person out) at once. Switching it on
again asks nothing."""

import httpx

from tests.console.support import (
    add_person,
    assigned_case,
    bearers,
    ready,
    seeded_console,
    signed_in,
)

ASKED = "¿Desactivar a Tom Becker? Se cerrará su sesión y ya no podrá iniciar sesión."


async def _active(base, prog, user_id) -> bool:
    async with httpx.AsyncClient(base_url=base) as c:
        h = await bearers(c, prog, "admin")
        r = await c.get(f"/api/v1/users/{user_id}", headers=h["admin"])
        r.raise_for_status()
        return bool(r.json()["active"])


async def test_deactivating_someone_asks_first_naming_them(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base) as c:
            tom = await add_person(c, "tom", "Tom Becker", "coordinator")
        ctx = await b.new_context(locale="es-AR")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("admin"), "users")
        row = page.locator(f"#user-table tr[data-user-id='{tom['id']}']")
        await row.wait_for()
        asked: list[str] = []
        answers = ["dismiss", "accept"]

        async def answer(dialog):
            asked.append(dialog.message)
            await getattr(dialog, answers.pop(0))()

        page.on("dialog", answer)

        # No: nothing changes.
        async with page.expect_event("dialog", timeout=5000):
            await row.get_by_role("button", name="Desactivar", exact=True).click()
        assert asked == [ASKED]
        assert await _active(base, prog, tom["id"])
        assert "Activa" in await row.inner_text()

        # Yes: switched off.
        async with page.expect_event("dialog", timeout=5000):
            await row.get_by_role("button", name="Desactivar", exact=True).click()
        await row.locator("td", has_text="Inactiva").wait_for()
        assert asked == [ASKED, ASKED]
        assert not await _active(base, prog, tom["id"])

        # Switching it on again is not destructive: no question.
        await row.get_by_role("button", name="Activar", exact=True).click()
        await page.wait_for_function(
            "(id) => document.querySelector(`#user-table tr[data-user-id='${id}']`)"
            ".textContent.includes('Desactivar')",
            arg=tom["id"],
        )
        assert await _active(base, prog, tom["id"])
        assert len(asked) == 2
        await ctx.close()


async def test_deactivating_a_specialist_says_her_open_cases_go_back_to_the_queue(app, factory):
    """Her cases not yet answered go back to be offered again (the service does it): she is
    told before, with how many, in her language."""
    async with seeded_console(app, factory) as (base, b, prog):
        specialist = prog.people["specialist"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "coordinator", "specialist")
            case_id = await assigned_case(c, h, prog, "Fever and rash for two days; next steps?")
        ctx = await b.new_context(locale="es-AR")
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("admin"), "users")
        row = page.locator(f"#user-table tr[data-user-id='{specialist['id']}']")
        await row.wait_for()
        asked: list[str] = []

        async def answer(dialog):
            asked.append(dialog.message)
            await dialog.accept()

        page.on("dialog", answer)
        async with page.expect_event("dialog", timeout=5000):
            await row.get_by_role("button", name="Desactivar", exact=True).click()
        await row.locator("td", has_text="Inactiva").wait_for()
        assert asked == [
            f"¿Desactivar a {specialist['name']}? Se cerrará su sesión y ya no podrá iniciar "
            "sesión. Tiene 1 consulta(s) sin responder: cada una vuelve a la cola de los "
            "coordinadores para ofrecerse de nuevo."
        ]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "coordinator")
            r = await c.get(f"/api/v1/cases/{case_id}", headers=h["coordinator"])
            assert r.json()["status"] == "unmatched"
        # The case's record says it was taken back from her, and why, once.
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        back = page.locator("#record-list li[data-type=unassigned]")
        await back.filter(has_text=specialist["name"]).wait_for()
        said = await back.inner_text()
        assert "Retirada a su especialista" in said and "se desactivó su cuenta" in said, said
        assert await page.locator("#record-list li[data-type=unmatched]").count() == 0
        await ctx.close()


async def test_a_coordinator_switches_off_those_she_may_invite(app, factory):
    """A coordinator may switch off (and on) a clinician, a specialist or an interpreter, as
    the service lets her: a volunteer who left the programme. The button was shown to admins
    only. Not for another coordinator, an admin or herself."""
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base) as c:
            ines = await add_person(c, "ines", "Inés Quispe", "interpreter")
            kofi = await add_person(c, "kofi", "Kofi Mensah", "coordinator")
        ctx = await b.new_context()
        page = await ctx.new_page()
        page.on("dialog", lambda d: d.accept())
        await signed_in(page, base, prog.email("coordinator"))
        await page.goto(f"{base}/admin/users")
        await ready(page, "users")
        row = page.locator(f"#user-table tr[data-user-id='{ines['id']}']")
        await row.wait_for()
        await row.get_by_role("button", name="Deactivate", exact=True).click()
        await row.locator("td", has_text="Inactive").wait_for()
        assert not await _active(base, prog, ines["id"])
        await row.get_by_role("button", name="Activate", exact=True).click()
        await row.get_by_role("button", name="Deactivate", exact=True).wait_for()
        assert await _active(base, prog, ines["id"])
        for who in (kofi["id"], prog.people["coordinator"]["id"]):
            other = page.locator(f"#user-table tr[data-user-id='{who}']")
            assert await other.get_by_role("button", name="Deactivate").count() == 0
        await ctx.close()
