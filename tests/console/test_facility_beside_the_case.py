"""What the facility has is in front of the specialist wherever advice is weighed, in a real
browser: on the case page (offered or assigned) and beside the consult note being written;
her inbox says which facility each offer comes from and what time it is there.
The facility's own clinician sees who is helping on the case, and, seeing that the facility
has said nothing yet of what it has, is led to where it says."""

from typing import Any

import httpx

from tests.console.support import (
    bearers,
    pending_offer,
    ready,
    seeded_console,
    signed_in,
    submit_case,
)


async def _card(page: Any) -> dict[str, Any]:
    await page.wait_for_selector("#facility:not([hidden])")
    return {
        "facts": await page.inner_text("#facility-facts"),
        "resources": await page.inner_text("#facility-resources"),
        "tags": await page.locator("#facility-tags li").all_inner_texts(),
        "edit": await page.locator("#facility-resources a[href='/facility']").count(),
    }


async def test_the_facility_and_what_it_has_stand_beside_the_case_and_the_note(app, factory):
    async with seeded_console(app, factory) as (
        base,
        b,
        prog,
    ):  # the facility has "X-ray, basic labs", tagged x-ray
        specialist_id = prog.people["specialist"]["id"]
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            h = await bearers(c, prog, "clinician", "specialist", "coordinator")
            child = {"reference": "HSR-3310", "age_years": 7, "sex": "female"}
            assigned = await submit_case(
                c, h["clinician"], "Honey-coloured crusts around the nose: impetigo?", patient=child
            )
            offer = await pending_offer(c, h, assigned, specialist_id)
            r = await c.post(f"/api/v1/offers/{offer}/accept", headers=h["specialist"])
            r.raise_for_status()
            r = await c.post(
                f"/api/v1/cases/{assigned}/notes",
                headers=h["specialist"],
                json={"kind": "consult", "assessment": "Non-bullous impetigo."},
            )
            r.raise_for_status()
            note = r.json()["id"]
            offered = await submit_case(
                c, h["clinician"], "Scaly scalp patches with hair loss?", patient=child
            )
            await pending_offer(c, h, offered, specialist_id)

        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("specialist"), "inbox")
        # The card stands first; its facility line is filled when the facility's read comes.
        card = page.locator(f"[data-case-id='{offered}'] .facility:not(:empty)")
        await card.wait_for()
        where = await card.inner_text()
        assert "Hospital San Roque" in where and "(Salta, " in where, where
        facility = {
            "resources": "X-ray, basic labs",
            "tags": ["x-ray"],
            "edit": 0,  # hers to read, the facility's to keep
        }
        # The assigned case, the one only offered (its summary: what the facility has
        # helps her decide), and the note she is writing.
        for path, name in ((f"/cases/{assigned}", "case"), (f"/cases/{offered}", "case")):
            await page.goto(base + path)
            await ready(page, name)
            card = await _card(page)
            assert "Hospital San Roque" in card.pop("facts")
            assert card == facility, path
        assert await page.locator(".notice:visible").count() == 1  # the offered case's summary
        # Her own case does not name her to herself.
        await page.goto(f"{base}/cases/{assigned}")
        await ready(page, "case")
        assert "Dr Ana Ruiz" not in await page.inner_text("#case-facts")
        await page.goto(f"{base}/notes/{note}")
        await ready(page, "note")
        card = await _card(page)
        facts = card.pop("facts")
        assert "Hospital San Roque" in facts and "(Salta, " in facts
        assert card == facility
        await ctx.close()

        # The facility has not said what it has: its own clinician is led to say it.
        async with httpx.AsyncClient(base_url=base, timeout=20) as c:
            r = await c.patch(
                f"/api/v1/organizations/{prog.org['id']}",
                headers=(await bearers(c, prog, "clinician"))["clinician"],
                json={"local_resources": {"text": "", "tags": []}},
            )
            r.raise_for_status()
        ctx = await b.new_context()
        page = await ctx.new_page()
        await signed_in(page, base, prog.email("clinician"))
        await page.goto(f"{base}/cases/{assigned}")
        await ready(page, "case")
        # Who is helping, the languages she speaks, and the time where she is (her zone is
        # UTC).
        facts = await page.inner_text("#case-facts")
        assert "Specialist" in facts and "Dr Ana Ruiz · Spanish, English · " in facts, facts
        assert "(UTC)" in facts, facts
        card = await _card(page)
        assert card["tags"] == [] and card["edit"] == 1
        assert card["resources"].startswith("The facility has not said yet what it has on site.")
        await page.click("#facility-resources a[href='/facility']")
        await ready(page, "facility")
        await ctx.close()
