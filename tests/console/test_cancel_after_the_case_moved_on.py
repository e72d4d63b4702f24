"""A clinician opens her case to cancel it (the patient went home), and while the page is
open the specialist signs her consult note, which answers the case. Her cancellation is
refused; the page then shows the case as it stands (answered, with nothing left to cancel)
and says why, in her language. Before, the refusal came in the service's English beside a
cancel form for a step the case had passed."""

import re

import httpx

from tests.console.support import (
    assigned_case,
    bearers,
    ready,
    seeded_console,
    sign_note,
    signed_in,
    status_says,
)


async def test_a_cancel_refused_because_the_case_was_answered_meanwhile(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Fever and rash for three days")
        ctx = await b.new_context()
        # The page hears nothing live (a slow link that dropped its socket): it stays as
        # it was when she opened it.
        await ctx.route_web_socket(re.compile(".*"), lambda ws: None)
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"), lang="es")
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        await page.wait_for_selector("#case-status.status-assigned")
        assert await page.locator("#cancel").is_visible()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.post(
                f"/api/v1/cases/{case_id}/notes",
                headers=h["specialist"],
                json={
                    "kind": "consult",
                    "assessment": "Likely measles.",
                    "recommendations": "Isolate; vitamin A; watch for pneumonia.",
                },
            )
            r.raise_for_status()
            await sign_note(c, h["specialist"], r.json()["id"])

        await page.fill("#cancel-reason", "El paciente volvió a su casa")
        page.once("dialog", lambda d: d.accept())
        await page.click("#cancel-form button[type=submit]")
        said = await status_says(page, "Este caso cambió mientras tanto")
        assert "cannot become" not in said
        await page.wait_for_selector("#case-status.status-answered")
        assert await page.locator("#cancel").is_hidden()
        await ctx.close()

        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.get(f"/api/v1/cases/{case_id}", headers=h["clinician"])
            assert (r.json()["status"], r.json()["cancel_reason"]) == ("answered", None)
