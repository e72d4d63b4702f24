"""The case's history, in French for the coordinator, tells the whole story of a case
nobody took: submitted, offered, the offer declined with its reason set off from the
specialist's name, then the step the status shows, that it was left without a specialist,
and when."""

import httpx

from tests.console.support import (
    bearers,
    clinician_case_page,
    pending_offer,
    seeded_console,
    submit_case,
)


async def test_the_history_says_it_became_unmatched(app, factory):
    async with seeded_console(app, factory) as (base, b, prog):
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "coordinator", "specialist")
            case_id = await submit_case(c, h["clinician"], "Éruption fébrile chez un enfant ?")
            offer = await pending_offer(c, h, case_id, prog.people["specialist"]["id"])
            r = await c.post(
                f"/api/v1/offers/{offer}/decline",
                headers=h["specialist"],
                json={"reason": "Busy in clinic"},
            )
            r.raise_for_status()
            r = await c.get(f"/api/v1/cases/{case_id}", headers=h["coordinator"])
            assert r.json()["status"] == "unmatched"

        ctx, page = await clinician_case_page(b, base, prog, case_id, lang="fr", who="coordinator")
        declined = page.locator("#record-list li[data-type=offer_declined]")
        await declined.filter(has_text="Dr Ana Ruiz").wait_for()
        said = await declined.inner_text()
        assert "Proposition refusée · Dr Ana Ruiz · «\u00a0Busy in clinic\u00a0»" in said, said
        unmatched = page.locator("#record-list li[data-type=unmatched]")
        await unmatched.wait_for()
        said = await unmatched.inner_text()
        assert "Sans spécialiste" in said, said
        assert await unmatched.locator("time[datetime]").count() == 1
        items = await page.locator("#record-list li").evaluate_all(
            "els => els.map(e => e.dataset.type)"
        )
        assert items[-1] == "unmatched", items
        await ctx.close()
