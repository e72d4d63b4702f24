"""An action tried while the link is down says so in the console's words and her language,
never the browser's English "Failed to fetch" (found by a walk on a throttled link: the
note's acknowledgement and a follow-up's Done both said it). Once the link is back, the
same tap works."""

import httpx

from tests.console.support import (
    assigned_case,
    bearers,
    plan_follow_up,
    ready,
    seeded_console,
    sign_in,
    sign_note,
    status_says,
)


async def _signed_note_and_follow_up(c: httpx.AsyncClient, h: dict, prog, case_id: str) -> None:
    r = await c.post(
        f"/api/v1/cases/{case_id}/notes",
        headers=h["specialist"],
        json={"kind": "consult", "assessment": "Tinea corporis.", "recommendations": "Cream."},
    )
    r.raise_for_status()
    await sign_note(c, h["specialist"], r.json()["id"])
    clinician = prog.people["clinician"]["id"]
    await plan_follow_up(c, h["clinician"], case_id, clinician, "Look at the rash again.")


async def test_acknowledge_and_done_offline_say_no_connection_in_her_language(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            case_id = await assigned_case(c, h, prog, "Ring-shaped rash on the arm?")
            await _signed_note_and_follow_up(c, h, prog, case_id)

        ctx = await b.new_context(locale="fr-FR", viewport={"width": 360, "height": 740})
        page = await ctx.new_page()
        page.on("dialog", lambda d: d.accept())
        await page.goto(f"{base}/lang/fr?next=/signin")
        await sign_in(page, base, prog.email("clinician"), "cases")
        await page.goto(f"{base}/cases/{case_id}")
        await ready(page, "case")
        ack = page.locator("#notes button.ack")
        await ack.wait_for()

        await ctx.set_offline(True)
        await ack.click()
        said = await status_says(page, "Pas de connexion")
        assert "Failed to fetch" not in said and "fetch" not in said.lower(), said
        await ctx.set_offline(False)
        await ack.click()
        await page.locator("#notes button.ack").wait_for(state="detached")

        done = page.locator("#followup-list").get_by_role("button", name="Fait", exact=True)
        await done.wait_for()
        await ctx.set_offline(True)
        await done.click()
        said = await status_says(page, "Pas de connexion")
        assert "fetch" not in said.lower(), said
        await ctx.close()
